import { definePrompt } from './prompt';

export default definePrompt({
  agent: 'queryClarifier',
  version: 'query-clarifier@1',
  role: 'recommender',
  temperature: 0.2,
  sees: [],
  system: 'You turn shopping needs into product search queries.',
  user: ({ needs }) => `Needs: ${needs}

Write one concrete product search query (a kind of product with its colour, material, pattern, style and use) that would find
a product meeting these needs. Answer as JSON: {"query": "..."}.`,
});
