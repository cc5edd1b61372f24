import { definePrompt, dialogueText } from './prompt';

export default definePrompt({
  agent: 'qualityReviewer',
  version: 'quality-reviewer@1',
  role: 'reviewer',
  temperature: 0.2,
  sees: [],
  system: 'You review synthetic shopping conversations for a research dataset. You are strict and consistent.',
  user: ({
    user,
    dialogue,
  }) => `The shopper: ${user.persona}. Their story: ${user.backstory} Their needs: ${user.requirement}
The conversation:
${dialogueText(dialogue)}

Score it on three criteria, each 0, 1 or 2:
- content_quality: 2 informative and specific about the products; 1 partly generic; 0 empty or wrong.
- logical_fluency: 2 every turn follows from the one before; 1 a jump or a repetition; 0 incoherent.
- user_consistency: 2 the shopper's needs and persona hold throughout; 1 one slip; 0 contradicts itself.
Answer as JSON: {"content_quality": n, "logical_fluency": n, "user_consistency": n}.`,
});
