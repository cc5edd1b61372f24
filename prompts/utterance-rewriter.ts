import { definePrompt, dialogueText } from './prompt';

export default definePrompt({
  agent: 'utteranceRewriter',
  version: 'utterance-rewriter@1',
  role: 'rewriter',
  temperature: 0.9,
  sees: [],
  system:
    'You edit dialogue so that it reads as if different people wrote it. You keep meaning exactly and never add commentary.',
  user: ({ speaker, text, colloquial, dialogue }) => `The conversation so far:
${dialogueText(dialogue)}

Rewrite this ${speaker === 'User' ? "shopper's" : "assistant's"} line with a different structure and different words. Keep every piece of
information (items, colours, materials, reasons, questions) and do not make it longer.${colloquial ? ' Casual, colloquial language is welcome.' : ''}
Line: ${text}
Answer as JSON: {"text": the rewritten line only}.`,
});
