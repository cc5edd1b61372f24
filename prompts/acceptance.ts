import { definePrompt, dialogueText, itemText } from './prompt';

export default definePrompt({
  agent: 'acceptance',
  version: 'acceptance@1',
  role: 'user',
  temperature: 0.2,
  sees: ['item'],
  system: 'You play a shopper talking to an online clothing store assistant. Stay in character and speak naturally.',
  user: ({ user, item, dialogue }) => `You: ${user.persona}
Your story: ${user.backstory}
What you need: ${user.requirement}
The product just recommended (see the image), which is what you wanted:
${itemText(item)}
The conversation so far:
${dialogueText(dialogue)}

Accept it: thank the assistant and say why it suits you, citing its features. 1-3 sentences. Answer as JSON: {"text": "..."}.`,
});
