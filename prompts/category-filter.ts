import { definePrompt } from './prompt';

export default definePrompt({
  agent: 'categoryFilter',
  version: 'category-filter@1',
  role: 'catalog',
  temperature: 0.2,
  sees: [],
  system: 'You sort the category tags of a clothing catalog.',
  user: ({
    category,
    examples,
  }) => `Is the tag "${category}" a type of clothing, footwear or accessory, a kind of product a shopper could ask for by name?
Examples of items with this tag: ${examples.slice(0, 5).join('; ') || '(none)'}.

Some answers, to show the line:
- "Dresses": yes. "Ankle Boots": yes. "Sunglasses": yes. "Handbags": yes.
- "Clothing": no, it covers every kind. "Women": no, it is an audience. "Novelty & More": no. "Shoe Care": no, not worn.
Answer as JSON: {"is_product_type": true|false}.`,
});
