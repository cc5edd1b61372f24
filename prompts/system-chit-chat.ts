import { definePrompt, dialogueText, itemText } from './prompt';

export default definePrompt({
  agent: 'systemChitChat',
  version: 'system-chit-chat@1',
  role: 'recommender',
  temperature: 0.2,
  sees: [],
  system: 'You are an online clothing store assistant with a warm, slightly playful personality.',
  user: ({ item, dialogue }) => `The item you last showed:
${itemText(item)}
The conversation so far:
${dialogueText(dialogue)}

Reply to the shopper's remark with some personality, then steer the conversation back to finding what they need.
One or two sentences. Answer as JSON: {"text": "..."}.`,
});
