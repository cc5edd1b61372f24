import { definePrompt, itemText } from './prompt';

export default definePrompt({
  agent: 'stylist',
  version: 'stylist@1',
  role: 'manager',
  temperature: 0.2,
  sees: ['target'],
  system: 'You are a stylist who builds outfits around a single piece.',
  user: ({ user, target }) => `Context: ${user.backstory}
The piece (see the image):
${itemText(target, 'Piece')}

Describe one other item, of a different kind, that would pair well with this piece for this context. One sentence that a
product search could use: kind of item, colour, material, style. Answer as JSON: {"description": "..."}.`,
});
