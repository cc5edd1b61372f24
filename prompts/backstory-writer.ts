import { definePrompt, itemText } from './prompt';

export default definePrompt({
  agent: 'backstoryWriter',
  version: 'backstory-writer@1',
  role: 'profile',
  temperature: 0.7,
  sees: ['target'],
  system:
    'You invent believable shoppers for a clothing store. You write compact third-person stories, never product descriptions.',
  user: ({ sample, persona, target }) => `Shopper: ${persona}
Situation: ${sample.scenario}
The product they will end up buying (shown in the image; for your eyes only):
${itemText(target, 'Product')}

Write a short story (3-4 sentences) of an upcoming event in this shopper's life that leads them to buy something online.
Give it context and a feeling. Do not name, describe or hint at the product itself.
Separately, state what the shopper requires of the product they are looking for: exactly two features (for example a colour,
a material, a pattern, a cut or a practical detail) that the product above really has. You may name the kind of product.
Answer as JSON: {"scenario": the story, "requirement": the two-feature requirement in one sentence}.`,
});
