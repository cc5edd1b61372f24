import { definePrompt, itemText } from './prompt';

export default definePrompt({
  agent: 'rejectReason',
  version: 'reject-reason@1',
  role: 'user',
  temperature: 0.2,
  sees: ['target', 'recommended'],
  system: 'You compare two products precisely.',
  user: ({ target, recommended }) => `First image, the wanted product:
${itemText(target, 'Wanted')}
Second image, the recommended product:
${itemText(recommended, 'Recommended')}

Find the single most important difference between them (kind of item, colour, material, pattern, style or a feature).
Answer as JSON: {"attribute": the attribute that differs, "difference": one sentence stating how they differ}.`,
});
