import { definePrompt, itemText } from './prompt';

export default definePrompt({
  agent: 'profileGate', version: 'profile-gate@1', role: 'profile', temperature: 0.2,
  sees: ['target'],
  system: 'You check whether a shopper profile is believable before it is used.',
  user: ({ sample, persona, target }) => `Shopper: ${persona}
Situation: ${sample.scenario}
The product they would end up buying (see the image):
${itemText(target, 'Product')}

Would this person plausibly buy this product (age, gender, the product's audience), and does it suit the situation?
Answer as JSON: {"fits_person": true|false, "fits_scenario": true|false, "reason": "one sentence"}.`,
});
