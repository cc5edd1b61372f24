import { definePrompt, itemText } from './prompt';

export default definePrompt({
  agent: 'profileGate',
  version: 'profile-gate@2',
  role: 'profile',
  temperature: 0.2,
  sees: ['target'],
  system: 'You check whether a shopper profile is believable before it is used.',
  user: ({ sample, persona, target }) => `Shopper: ${persona}
Situation: ${sample.scenario}
The product they would end up buying (see the image):
${itemText(target, 'Product')}

Would this person plausibly buy this product (age, gender, the product's audience), and does it suit the situation?
When the situation is a gift, judge the product against the person it is for, not the shopper.
Answer as JSON: {"fits_person": true|false, "fits_scenario": true|false, "reason": "one sentence"}.`,
});
