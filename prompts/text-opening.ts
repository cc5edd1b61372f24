import { definePrompt } from './prompt';

export default definePrompt({
  agent: 'textOpening',
  version: 'text-opening@1',
  role: 'manager',
  temperature: 0.2,
  sees: [],
  system: 'You script the first minute of a conversation between a shopper and an online clothing store assistant.',
  user: ({ user }) => `Shopper: ${user.persona}
Their story: ${user.backstory}
What they need: ${user.requirement}

Write the first two rounds of small talk, four turns in this order:
1. the assistant greets the shopper;
2. the shopper explains their situation in 2-3 sentences, in their own voice;
3. the assistant responds with empathy and asks for more detail;
4. the shopper adds what they need.
Nobody mentions or suggests a specific product yet. Answer as JSON: {"utterances": [four strings]}.`,
});
