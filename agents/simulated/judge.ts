import type { Handlers } from './handlers';
import { VOCABULARY } from '../../catalog/attributes';
import { dominantColours } from '../../catalog/colour';
import { imageAbsolutePath } from '../../catalog/images';
import { STOP, turnOpening } from './rules';

/** The dataset judge of `muse eval`, simulated: scores from what can be checked without a model. */
export const judgeHandlers: Pick<Handlers, 'datasetJudge'> = {
  /**
   * Scores from what can be checked without a model: repeated phrasing (naturalness), turn order and an
   * ending (coherence), product words (richness), the situation's words in the assistant's turns
   * (relevance), and whether a turn names the colour that covers most of the image it shows (pixels read).
   */
  async datasetJudge({ scenario, dialogue, images }) {
    const clamp = (n: number) => Math.max(1, Math.min(5, Math.round(n)));
    const openings = dialogue.map(turnOpening);
    const repeats = openings.length - new Set(openings).size;
    const words = dialogue.map((t) => t.text.split(/\s+/).filter(Boolean).length);
    const naturalness = clamp(5 - Math.min(3, repeats) - (words.some((n) => n < 3 || n > 80) ? 1 : 0));
    const alternates = dialogue.every((t, i) => i === 0 || t.speaker !== dialogue[i - 1].speaker);
    const logical_coherence = clamp(
      5 - (alternates ? 0 : 2) - (dialogue[dialogue.length - 1]?.speaker === 'User' ? 0 : 1) - (repeats > 2 ? 1 : 0),
    );
    const all = dialogue
      .map((t) => t.text)
      .join(' ')
      .toLowerCase();
    const mentioned = [VOCABULARY.colours, VOCABULARY.materials, VOCABULARY.nouns, VOCABULARY.patterns]
      .flat()
      .filter((w) => new RegExp(`\\b${w}\\b`).test(all));
    const information_richness = clamp(1 + new Set(mentioned).size / 2);
    const assistant = dialogue
      .filter((t) => t.speaker === 'Assistant')
      .map((t) => t.text)
      .join(' ')
      .toLowerCase();
    const situation = [...new Set(scenario.toLowerCase().match(/[a-z]{5,}/g) ?? [])].filter((w) => !STOP.has(w));
    const echoed = situation.filter((w) => assistant.includes(w)).length;
    const product_context_relevance = situation.length ? clamp(2 + (3 * echoed) / Math.min(3, situation.length)) : 3;
    const shown = dialogue.filter((t) => t.images.length);
    let image_text_consistency: number | null = null;
    let agree = 0;
    if (shown.length) {
      for (const t of shown) {
        const colours = (
          await Promise.all(t.images.map((n) => dominantColours(imageAbsolutePath(images[n - 1].path))))
        ).flat();
        if (colours.some((c) => t.text.toLowerCase().includes(c))) agree++;
      }
      image_text_consistency = clamp(1 + (4 * agree) / shown.length);
    }
    return {
      naturalness,
      logical_coherence,
      information_richness,
      product_context_relevance,
      image_text_consistency,
      rationale:
        `Simulated judge: ${repeats} repeated opening(s), ${new Set(mentioned).size} product words, ${echoed}/${situation.length} situation words echoed by the assistant` +
        (shown.length
          ? `, the image's main colour named in ${agree} of ${shown.length} turns with images.`
          : ', no image shown.'),
    };
  },
};
