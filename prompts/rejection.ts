import { definePrompt, dialogueText } from './prompt';

export default definePrompt({
  agent: 'rejection',
  version: 'rejection@1',
  role: 'user',
  temperature: 0.2,
  sees: [],
  system: 'You play a shopper talking to an online clothing store assistant. Stay in character and speak naturally.',
  user: ({ user, difference, dialogue }) => `You: ${user.persona}
Why the last suggestion is not right: ${difference}
The conversation so far:
${dialogueText(dialogue)}

Turn down the last suggestion in 1-3 sentences and say what you need instead. Do not mention brands or prices, and do not
reuse phrasing you have already used. Answer as JSON: {"text": "..."}.`,
});
