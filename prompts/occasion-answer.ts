import { definePrompt, dialogueText } from './prompt';

export default definePrompt({
  agent: 'occasionAnswer',
  version: 'occasion-answer@1',
  role: 'user',
  temperature: 0.2,
  sees: [],
  system: 'You play a shopper talking to an online clothing store assistant. Stay in character and speak naturally.',
  user: ({ user, dialogue }) => `You: ${user.persona}
Your story: ${user.backstory}
What you need: ${user.requirement}
The conversation so far:
${dialogueText(dialogue)}

Answer the assistant's question about the occasion from your story, and add one more of your requirements.
Two or three sentences. Answer as JSON: {"text": "..."}.`,
});
