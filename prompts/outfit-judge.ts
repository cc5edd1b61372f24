import { definePrompt, itemText } from './prompt';

export default definePrompt({
  agent: 'outfitJudge',
  version: 'outfit-judge@1',
  role: 'manager',
  temperature: 0.2,
  sees: ['target', 'candidate'],
  system: 'You judge outfits strictly and briefly.',
  user: ({ user, target, candidate }) => `Context: ${user.backstory}
First image: ${itemText(target, 'Piece A')}
Second image: ${itemText(candidate, 'Piece B')}

Do pieces A and B make a compatible outfit, and is piece B appropriate for the context?
Answer as JSON: {"outfit_compatibility": true|false, "scenario_appropriateness": true|false}.`,
});
