import { definePrompt, dialogueText } from './prompt';

export default definePrompt({
  agent: 'occasionQuestion',
  version: 'occasion-question@1',
  role: 'recommender',
  temperature: 0.2,
  sees: [],
  system: 'You are a friendly online clothing store assistant.',
  user: ({ dialogue }) => `The conversation so far:
${dialogueText(dialogue)}

Ask the shopper, in one or two sentences, what occasion or event they are shopping for. Answer as JSON: {"text": "..."}.`,
});
