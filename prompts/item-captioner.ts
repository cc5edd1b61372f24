import { definePrompt, itemText } from './prompt';

export default definePrompt({
  agent: 'itemCaptioner',
  version: 'item-captioner@1',
  role: 'catalog',
  temperature: 0.4,
  sees: ['item'],
  system: 'You write product descriptions for an online clothing catalog from a product photo and its listing.',
  user: ({ item }) => `The listing:
${itemText(item, 'Product')}

Look at the photo and describe this product in 3-5 sentences: what kind of item it is, its colour, material, pattern, cut and
any visible details, then what the listing adds. Describe only the product; ignore people, props and backgrounds. Do not
invent what neither the photo nor the listing shows. Answer as JSON: {"description": "..."}.`,
});
