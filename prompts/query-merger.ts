import { definePrompt } from './prompt';

export default definePrompt({
  agent: 'queryMerger',
  version: 'query-merger@1',
  role: 'recommender',
  temperature: 0.2,
  sees: [],
  system: 'You maintain a product search query across a conversation.',
  user: ({ previous, current }) => `Previous query: ${previous}
New query: ${current}

Merge them into one query. Where they disagree, the new query wins; keep whatever the new one does not mention.
Answer as JSON: {"query": "..."}.`,
});
