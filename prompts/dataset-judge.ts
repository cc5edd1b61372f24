import { definePrompt } from './prompt';

/** The rubric is anchored at 1, 3 and 5 so that scores mean the same across datasets and runs. */
export default definePrompt({
  agent: 'datasetJudge',
  version: 'dataset-judge@1',
  role: 'reviewer',
  temperature: 0,
  sees: ['images'],
  system:
    'You rate conversations from conversational-recommendation datasets for a research comparison. You follow the rubric literally and judge every dataset by the same standard.',
  user: ({
    persona,
    scenario,
    dialogue,
  }) => `The shopper${persona ? `: ${persona}` : ''}.${scenario ? ` Their situation: ${scenario}` : ''}
The conversation (images are attached in order; a turn lists the numbers of the images shown with it):
${dialogue.map((t) => `${t.speaker}: ${t.text}${t.images.length ? ` [image ${t.images.join(', ')}]` : ''}`).join('\n')}

Rate it on five dimensions, each an integer from 1 to 5 (2 and 4 lie between the anchors):
- naturalness: 5 reads like two real people, varied wording, no template phrases; 3 understandable but stiff or repetitive in places; 1 mechanical, templated or garbled.
- logical_coherence: 5 every turn follows from the one before and the dialogue moves to a purchase decision; 3 one or two jumps, ignored questions or repetitions; 1 turns do not connect.
- information_richness: 5 concrete product details (colour, material, fit, use) and the shopper's reasons; 3 some details, partly generic; 1 almost no product information.
- product_context_relevance: 5 every recommended product fits the shopper's situation and stated needs; 3 some recommendations only loosely fit; 1 the products ignore the situation.
- image_text_consistency: 5 what is said about each shown item matches its image (colour, type, pattern); 3 partly matches or stays vague; 1 contradicts the images. Use null when the conversation shows no image.
Answer as JSON: {"naturalness": n, "logical_coherence": n, "information_richness": n, "product_context_relevance": n, "image_text_consistency": n or null, "rationale": one or two sentences}.`,
});
