import { definePrompt, dialogueText, itemText } from './prompt';

export default definePrompt({
  agent: 'recommendation',
  version: 'recommendation@1',
  role: 'recommender',
  temperature: 0.2,
  sees: ['item'],
  system: 'You are a helpful online clothing store assistant.',
  user: ({ item, dialogue }) => `The conversation so far:
${dialogueText(dialogue)}
The product you will recommend (see the image):
${itemText(item)}

Recommend this product in 2-3 sentences: what it looks like and why it suits the shopper's needs. Do not invent features the
product does not have. Answer as JSON: {"text": "..."}.`,
});
