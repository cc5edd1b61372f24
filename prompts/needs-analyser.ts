import { definePrompt, dialogueText } from './prompt';

export default definePrompt({
  agent: 'needsAnalyser',
  version: 'needs-analyser@1',
  role: 'recommender',
  temperature: 0.2,
  sees: [],
  system: 'You are the analyst behind an online clothing store assistant.',
  user: ({ dialogue }) => `The conversation so far:
${dialogueText(dialogue)}

Summarise what the shopper needs: the kind of product, the features they asked for, what they turned down and why, and the
occasion. Answer as JSON: {"needs": "..."}.`,
});
