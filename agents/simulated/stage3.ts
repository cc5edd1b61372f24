import type { Handlers } from './handlers';
import { readAttributes, lastWord, VOCABULARY } from '../../catalog/attributes';
import { an, GARMENT_TYPES, plural, withArticle } from '../../catalog/vocabulary';
import {
  cap,
  lowerFirst,
  NEUTRALS,
  fresh,
  compose,
  situation,
  personaFacts,
  statedNeeds,
  queryFrom,
  describe,
  PAIRS,
  pairGroup,
  unfitFor,
  experience,
  COLOUR_FAMILY,
  spokenColour,
  spokenMaterial,
} from './rules';

/** Stage 3, simulated: the user and recommender turns, written from the real profile and item attributes. */
export const stage3Handlers: Pick<
  Handlers,
  | 'textOpening'
  | 'stylist'
  | 'outfitJudge'
  | 'imageOpening'
  | 'occasionQuestion'
  | 'occasionAnswer'
  | 'userChitChat'
  | 'systemChitChat'
  | 'rejectReason'
  | 'rejection'
  | 'needsAnalyser'
  | 'queryClarifier'
  | 'queryMerger'
  | 'recommendation'
  | 'acceptance'
> = {
  textOpening({ user }, rng) {
    const s = situation(user.scenario);
    const { age, profession } = personaFacts(user.persona);
    const me = profession
      ? rng.pick([`I work as ${an(profession)}`, `I'm ${an(profession)}`, `My job as ${an(profession)} keeps me busy`])
      : rng.pick([`I'm ${age}`, `At ${age}`, `I'm only ${age}`]);
    const need = lowerFirst(user.requirement).replace(/\.$/, '');
    return {
      utterances: [
        compose(
          rng,
          ['Hi there!', 'Hello!', 'Welcome!', 'Good to see you!', 'Hey, welcome in!', 'Hi, thanks for stopping by!'],
          [
            'What can I help you find today?',
            'Are you shopping for anything in particular?',
            'What brings you here today?',
            'How can I help?',
            'Looking for something special?',
          ],
        ),
        `${s.first}${rng.pick([", and it's coming up soon.", ' soon.', ', and the date is getting close.', ' in a little while.'])} ${me}${rng.pick([", so I don't get much time to shop.", ', so shopping has to be quick.', ', and time is tight.'])} ${rng.pick(['I want to look right for it.', "I'd like to get this right.", 'I could really use some help.', 'I want to feel good on the day.', 'Any help is welcome.'])}`,
        compose(
          rng,
          [
            'That sounds lovely!',
            'How exciting!',
            'That sounds like a big moment.',
            'Oh, what a great reason to shop.',
            'Congratulations, that sounds special.',
            'I love that.',
          ],
          [
            'What kind of piece do you have in mind?',
            'Tell me a bit more about what you are looking for.',
            'Is there anything specific you would like it to have?',
            'What would make it perfect for you?',
            'Do you already have something in mind?',
          ],
        ),
        `${rng.pick(["I'm hoping to find", 'Ideally I want', "I'm after", "I'd love", 'What I need is', "I'm picturing"])} ${need}. ${rng.pick(['Comfort matters to me too.', 'It has to feel like me.', 'Something that lasts would be great.', 'Nothing too flashy, though.', 'Good quality matters to me.', ''])}`.trim(),
      ],
    };
  },

  stylist({ target }, rng) {
    // Describes only the pairing piece: its kind, colour and material, the words a search would match.
    const noun = rng.pick(PAIRS[pairGroup(readAttributes(target).noun)]);
    const type = GARMENT_TYPES.find((t) => t.singular.toLowerCase() === noun);
    const material = type ? rng.pick(type.materials) : 'cotton';
    return { description: `${rng.pick(NEUTRALS)} ${material} ${noun}` };
  },

  outfitJudge({ user, target, candidate }) {
    const t = readAttributes(target);
    const c = readAttributes(candidate);
    const outfit_compatibility =
      t.noun !== c.noun && PAIRS[pairGroup(t.noun)].some((n) => c.noun.includes(n) || n.includes(c.noun));
    const scenario_appropriateness = !unfitFor(user.scenario, c.noun);
    return { outfit_compatibility, scenario_appropriateness };
  },

  imageOpening({ bought, target }, rng) {
    const b = readAttributes(bought);
    const t = readAttributes(target);
    const visual = [
      t.colour && `something ${spokenColour(t.colour)}`,
      t.pattern ? `with a ${t.pattern} pattern` : t.material && `in ${t.material}`,
    ].filter(Boolean);
    return {
      utterances: [
        rng.pick([
          'Hi there, welcome! What can I help you find today?',
          'Hello! What are you shopping for today?',
          'Welcome in! How can I help?',
        ]),
        `I recently bought ${plural(b.noun) ? 'these' : 'this'} ${describe(b)}, and I'd love to find something to go with ${plural(b.noun) ? 'them' : 'it'}. ${rng.pick(['Any ideas?', 'What would you pair with it?', 'Where should I start?'])}`,
        `${rng.pick(['Great pick!', 'Lovely choice.', 'Nice choice!'])} ${b.colour && NEUTRALS.includes(b.colour) ? `Since ${plural(b.noun) ? 'they are' : 'it is'} neutral, a piece with a bit of colour or texture` : `With ${b.colour ?? 'that shade'}, something in a calmer tone`} ${rng.pick(['would really make it stand out.', 'would balance the look nicely.'])}`,
        `${rng.pick(['I was picturing', "In my head it's", "I'm thinking of"])} ${visual.join(', maybe ') || withArticle(t.noun, t.noun)}${t.noun ? `, ${withArticle(t.noun, t.noun)} ideally` : ''}.`,
      ],
    };
  },

  occasionQuestion({ dialogue }, rng) {
    return {
      text: fresh(
        rng,
        [
          'Lovely. So I can narrow it down, what is the occasion you are shopping for?',
          'Good to know. Is this for a particular event or occasion?',
          'Noted! Where are you planning to wear it?',
        ],
        dialogue,
      ),
    };
  },

  occasionAnswer({ user, dialogue }, rng) {
    const s = situation(user.scenario);
    const need = lowerFirst(user.requirement).replace(/\.$/, '');
    return {
      text: fresh(
        rng,
        [`${s.first}. It would be perfect if it were ${need}.`, `It's for this: ${s.first}. I also want ${need}.`],
        dialogue,
      ),
    };
  },

  userChitChat({ item, dialogue }, rng) {
    const a = readAttributes(item);
    const topic = a.material ?? a.colour ?? a.noun;
    return {
      text: fresh(
        rng,
        [
          `Oh, ${topic}! I had ${withArticle(`${a.material ?? ''} ${a.noun}`.trim(), a.noun)} years ago and it ${experience(rng, a.material)}.`,
          `Funny, ${a.colour ?? 'that colour'} always reminds me of my first job; I wore ${withArticle(a.noun, a.noun)} in that shade almost every week.`,
          `I do like the little details, like ${a.features[0] ?? 'the finish'}. My last ${a.noun} ${experience(rng, a.material)}.`,
          `My sister swears by ${topic}; hers ${experience(rng, a.material)}.`,
          `${cap(a.colour ?? 'That shade')} looks great in the photo. A friend of mine has ${withArticle(a.noun, a.noun)} like it and it ${experience(rng, a.material)}.`,
        ],
        dialogue,
      ),
    };
  },

  systemChitChat({ item }, rng) {
    const a = readAttributes(item);
    return {
      text: compose(
        rng,
        [
          `Ha, I know exactly what you mean!`,
          'I love hearing that!',
          'That is a great memory to have.',
          'You clearly know your clothes!',
          'What a lovely story.',
        ],
        [
          `${cap(a.material ?? 'Good fabric')} has a way of winning people over.`,
          'Stories like that are why I enjoy this job.',
          `A good ${a.noun} really does stay with you.`,
          '',
        ],
        [
          `Let's keep that in mind and find the piece that fits your plans perfectly.`,
          `I'll keep it in mind while we look for the right ${a.noun} for you.`,
          'Now, let us find you something even better.',
          'Shall we keep looking?',
        ],
      ),
    };
  },

  rejectReason({ target, recommended }) {
    const t = readAttributes(target);
    const r = readAttributes(recommended);
    if (t.noun !== r.noun)
      return {
        attribute: 'type',
        difference: `The recommendation is ${withArticle(r.noun, r.noun)}, but the wanted item is ${withArticle(t.noun, t.noun)}.`,
      };
    if (t.colour && t.colour !== r.colour)
      return {
        attribute: 'colour',
        difference: `The recommendation is ${r.colour ?? 'another colour'}, but the wanted one is ${t.colour}.`,
      };
    if (t.material && t.material !== r.material)
      return {
        attribute: 'material',
        difference: `The recommendation is ${r.material ?? 'another material'}, but the wanted one is ${t.material}.`,
      };
    if ((t.pattern ?? 'solid') !== (r.pattern ?? 'solid'))
      return {
        attribute: 'pattern',
        difference: `The recommendation is ${r.pattern ?? 'plain'}, but the wanted one is ${t.pattern ?? 'plain'}.`,
      };
    if (t.style && t.style !== r.style)
      return {
        attribute: 'style',
        difference: `The recommendation is ${r.style ?? 'another style'}, but the wanted one is ${t.style}.`,
      };
    const missing = t.features.find((f) => !r.features.includes(f));
    return {
      attribute: 'feature',
      difference: `The wanted one has ${missing ?? 'a different finish'}, the recommendation does not.`,
    };
  },

  rejection({ difference, dialogue }, rng) {
    const m = /is (an? )?(.+?), but the wanted (?:item|one) is (an? )?(.+?)\.$/.exec(difference);
    const f = /^The wanted one has (.+?), the recommendation/.exec(difference);
    if (!m) {
      const want = f?.[1] ?? 'a slightly different finish';
      return {
        text: fresh(
          rng,
          [
            `It's nice, but I really need one that has this: ${want}.`,
            `Close, but it is missing something I need: ${want}.`,
            `Almost. What I can't do without is this: ${want}.`,
          ],
          dialogue,
        ),
      };
    }
    // A different kind of item keeps its article ("a shirt"); a colour or material does not ("grey").
    // The wanted attribute always comes last: the needs analyser reads the last mention as the need.
    const colour = COLOUR_FAMILY[m[4]] && COLOUR_FAMILY[m[2]] ? spokenColour(m[4], m[2]) : undefined;
    const feel = spokenMaterial(m[4], m[2]);
    // A material asked for by feel leaves the shown one unnamed: a named one would read as the need.
    const was = feel ? 'that fabric' : `${m[1] ?? ''}${m[2]}`;
    const want = m[4] === 'plain' ? 'a plain, solid look' : `${m[3] ?? ''}${colour ?? m[4]}`;
    const wantSomething =
      m[3] || m[4] === 'plain'
        ? want
        : feel
          ? `something ${feel}`
          : colour?.includes(' ')
            ? `something in a ${colour}`
            : `something ${want}`;
    const no = fresh(
      rng,
      [
        `Thanks, but ${was} isn't quite what I had in mind.`,
        `Hmm, I'm not sure about ${was}.`,
        `It's close, but not ${was}.`,
        `I appreciate it, though ${was} doesn't work for me.`,
        `Sorry, ${was} is not really me.`,
        `Nice try, but ${was} won't do.`,
      ],
      dialogue,
    );
    const yes = rng.pick([
      `I'd really prefer ${wantSomething}.`,
      `Could we look at ${wantSomething} instead?`,
      `I need ${wantSomething}.`,
      `${cap(wantSomething)} would suit me much better.`,
      `Do you have ${wantSomething}?`,
      `I had ${wantSomething} in mind.`,
    ]);
    return { text: `${no} ${yes}` };
  },

  needsAnalyser({ dialogue }) {
    const n = statedNeeds(dialogue);
    const parts = Object.entries(n)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}: ${v}`);
    return {
      needs: parts.length ? `The user wants ${parts.join('; ')}.` : 'The user has not stated concrete needs yet.',
    };
  },

  queryClarifier({ needs }) {
    const get = (k: string) => new RegExp(`${k}: ([^;.]+)`).exec(needs)?.[1];
    const q = queryFrom({
      colour: get('colour'),
      pattern: get('pattern'),
      material: get('material'),
      style: get('style'),
      noun: get('noun'),
      occasion: get('occasion'),
    });
    return { query: q || 'clothing' };
  },

  queryMerger({ previous, current }) {
    // The newer query wins on every attribute it names; the older one fills the gaps.
    const read = (q: string) => ({
      noun: lastWord(q, VOCABULARY.nouns),
      colour: lastWord(q, VOCABULARY.colours),
      material: lastWord(q, VOCABULARY.materials),
      pattern: lastWord(q, VOCABULARY.patterns),
      style: lastWord(q, VOCABULARY.styles),
      occasion: / for (.+)$/.exec(q)?.[1],
    });
    const p = read(previous);
    const c = read(current);
    const merged = Object.fromEntries(Object.keys(c).map((k) => [k, c[k as keyof typeof c] ?? p[k as keyof typeof p]]));
    return { query: queryFrom(merged) || current };
  },

  recommendation({ item, dialogue }, rng) {
    const a = readAttributes(item);
    const looks = [a.colour, a.pattern, a.material].filter(Boolean).join(' ');
    const named = withArticle(looks ? `${looks} ${a.noun}` : a.noun, a.noun);
    const intro = fresh(
      rng,
      [
        `How about this one? It's ${named}.`,
        `I'd suggest ${named}.`,
        `Take a look at this: ${named}.`,
        `This might be what you need: ${named}.`,
        `Here's one I like for you, ${named}.`,
        `What do you think of ${named}?`,
        `I found ${named} that could work.`,
        `Let me show you ${named}.`,
      ],
      dialogue,
    );
    const style = a.style
      ? rng.pick([
          `The ${a.style} cut is very flattering.`,
          `It has ${an(a.style)} shape.`,
          `The ${a.style} style keeps it easy to wear.`,
        ])
      : '';
    const detail = a.features[0]
      ? rng.pick([
          `One detail you will like: ${a.features[0]}.`,
          `It also has this going for it: ${a.features[0]}.`,
          `Worth noting: ${a.features[0]}.`,
        ])
      : '';
    const use = a.occasion
      ? rng.pick([`It's made for ${a.occasion}.`, `Great for ${a.occasion}.`, `People buy it for ${a.occasion}.`])
      : '';
    return { text: [intro, ...rng.shuffle([style, detail, use].filter(Boolean)).slice(0, 2)].join(' ') };
  },

  acceptance({ user, item, dialogue }, rng) {
    const a = readAttributes(item);
    const s = situation(user.scenario);
    const what = [a.colour, a.material].filter(Boolean).join(' ') || a.noun;
    const extra = a.features[0] ?? a.style;
    const opener = fresh(
      rng,
      [
        'This is exactly what I was looking for, thank you!',
        "Yes, that's the one!",
        "Perfect, I'll take it.",
        'Oh, I love it, thank you!',
        "That's it, great find!",
        'Finally, this is it!',
      ],
      dialogue,
    );
    const why = rng.pick([
      `The ${what} is perfect for ${s.short}`,
      `${cap(what)} is just what I wanted for ${s.short}`,
      `The ${what} ticks every box for ${s.short}`,
      `I can already see the ${what} working for ${s.short}`,
    ]);
    const plus = extra
      ? rng.pick([
          `, and I love the detail: ${extra}`,
          `, right down to the ${extra}`,
          `, and "${extra}" is a real bonus`,
          `. Plus, ${extra}!`,
        ])
      : '';
    return { text: `${opener} ${why}${plus}${plus.endsWith('!') ? '' : '.'}` };
  },
};
