import type { Handlers } from './handlers';
import { readAttributes, lastWord, VOCABULARY } from '../../catalog/attributes';
import { COLOUR_FAMILY, turnOpening, unfitFor } from './rules';

/** Stage 4, simulated: the rewriter, its checker, the quality reviewer and the recommendation screener. */

/** Stock openings of the simulated agents and equivalents no longer than them, for the rewriter. */
const REWRITES: Array<[RegExp, string[]]> = [
  [/^How about this one\?/, ['What about this one?', "How's this one?", 'Maybe this one?']],
  [/^This might be what/, ['This may be what', 'Maybe this is what']],
  [/^What do you think of/, ['How do you like', 'How do you find']],
  [/^Let me show you/, ['Have a look at', "Here's"]],
  [/^Take a look at/, ['Look at', 'Check out', 'See']],
  [/^Hmm, I'm not sure/, ['Hmm, not sure', "I'm unsure"]],
  [/^I appreciate it, though/, ['Thanks anyway', 'Kind of you, though']],
  [/^Here's one I like/, ['One I like', "One I'm fond of"]],
  [/^Oh, I love it,/, ['I love it,', 'Love it,', 'Aw, I love it,']],
  [/^Perfect, I'll take it\./, ["Great, I'll take it.", 'Perfect, sold.']],
  [/^It's close, but not/, ['Close, but not', 'Nearly, but not']],
  [/^What I need is/, ['I need', 'What I want is']],
  [/^Finally, this is it!/, ['At last, this is it!', 'This is it, at last!']],
  [/^Yes, that's the one!/, ["That's the one!", 'Yes, this one!']],
  [/^That's it, great find!/, ["Great find, that's it!", 'Spot on, great find!']],
  [/^I'm hoping to find/, ['I hope to find', "I'd like to find"]],
  [/^Congratulations, that sounds special\./, ['Congrats, how special.', 'How special, congrats.']],
  [/\bI'd really prefer\b/, ["I'd rather have"]],
  [/\bI'm looking for\b/, ["I'm after", 'I want']],
  [/\bthank you\b/i, ['thanks']],
  [/\bI think\b/, ['I reckon', 'I feel']],
  [/\bwould suit me much better\b/, ['would suit me better']],
  [/\bThat sounds lovely!/, ['Lovely!']],
  [/\bexactly what\b/, ['just what']],
  [/\bHello and welcome\b/, ['Welcome']],
];
const COLLOQUIAL: Array<[RegExp, string]> = [
  [/\bI am\b/g, "I'm"],
  [/\bdo not\b/g, "don't"],
  [/\bit is\b/g, "it's"],
  [/\bgoing to\b/g, 'gonna'],
  [/\bwant to\b/g, 'wanna'],
  [/^Yes\b/, 'Yeah'],
  [/^Hello\b/, 'Hey'],
  [/\bvery\b/g, 'super'],
];

export const stage4Handlers: Pick<
  Handlers,
  'utteranceRewriter' | 'rewriteChecker' | 'qualityReviewer' | 'recommendationScreener'
> = {
  utteranceRewriter({ text, colloquial }, rng) {
    // Swaps the stock phrasing the other simulated agents use for equivalents of the same length or
    // shorter; content words (colours, materials, items, reasons) are never touched.
    let out = text;
    for (const [re, alts] of REWRITES) if (re.test(out)) out = out.replace(re, rng.pick(alts));
    if (colloquial) for (const [re, casual] of COLLOQUIAL) out = out.replace(re, casual);
    return { text: out.length <= text.length ? out : text };
  },

  rewriteChecker({ original, rewrite }) {
    const words = (s: string) =>
      [VOCABULARY.colours, VOCABULARY.materials, VOCABULARY.nouns, VOCABULARY.patterns]
        .flatMap((v) => v.filter((w) => new RegExp(`\\b${w}\\b`, 'i').test(s)))
        .sort();
    return {
      content_kept: words(original).join() === words(rewrite).join(),
      no_preamble: !/^(here is|here's|sure|certainly|rewritten|okay,? here)/i.test(rewrite.trim()),
    };
  },

  qualityReviewer({ user, dialogue }) {
    const recs = dialogue.filter((t) => t.action === 'recommend');
    const specific = recs.filter(
      (t) => lastWord(t.text, VOCABULARY.colours) || lastWord(t.text, VOCABULARY.materials),
    ).length;
    const content_quality = recs.length === 0 ? 0 : specific === recs.length ? 2 : specific > 0 ? 1 : 0;
    const alternates = dialogue.every((t, i) => i === 0 || t.speaker !== dialogue[i - 1].speaker);
    const ends = dialogue[dialogue.length - 1]?.action === 'accept';
    // A speaker opening two turns with the same three words reads as a repetition: one point off.
    const repeats = new Set(dialogue.map(turnOpening)).size < dialogue.length;
    const logical_fluency = Math.max(0, (alternates ? 1 : 0) + (ends ? 1 : 0) - (repeats ? 1 : 0));
    const wanted = lastWord(user.requirement, VOCABULARY.colours);
    const accepted = dialogue[dialogue.length - 1]?.text ?? '';
    // The user asks by colour family ("blue") and accepts the shade it sees ("navy"): both are consistent.
    const fits = VOCABULARY.colours.filter((c) => c === wanted || COLOUR_FAMILY[c] === wanted);
    const user_consistency = !wanted || fits.some((c) => accepted.toLowerCase().includes(c)) ? 2 : 1;
    return { content_quality, logical_fluency, user_consistency };
  },

  recommendationScreener({ user, recommendedItems }) {
    const bad = recommendedItems.some((it) => unfitFor(user.scenario, readAttributes(it).noun));
    return { fits_context: !bad };
  },
};
