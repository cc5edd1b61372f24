import { definePrompt } from './prompt';

export default definePrompt({
  agent: 'rewriteChecker',
  version: 'rewrite-checker@1',
  role: 'reviewer',
  temperature: 0.1,
  sees: [],
  system: 'You check edited dialogue lines strictly.',
  user: ({ original, rewrite }) => `Original: ${original}
Rewrite: ${rewrite}

Does the rewrite keep all the content of the original (nothing lost, nothing added)? Is it free of any preamble or comment
such as "Here is a rewritten version"? Answer as JSON: {"content_kept": true|false, "no_preamble": true|false}.`,
});
