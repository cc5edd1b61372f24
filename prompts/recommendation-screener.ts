import { definePrompt, dialogueText, itemText } from './prompt';

export default definePrompt({
  agent: 'recommendationScreener',
  version: 'recommendation-screener@1',
  role: 'reviewer',
  temperature: 0.2,
  sees: [],
  system: 'You screen shopping conversations for a research dataset.',
  user: ({ user, dialogue, recommendedItems }) => `The shopper's story: ${user.backstory}
The conversation:
${dialogueText(dialogue)}
The products recommended:
${recommendedItems.map((it) => itemText(it)).join('\n')}

Do the recommended products fit the shopper's context (the occasion, the person, what they asked for)?
Answer as JSON: {"fits_context": true|false}.`,
});
