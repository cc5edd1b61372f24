import { readAttributes, lastWord, VOCABULARY, type ItemAttributes } from '../catalog/attributes';
import { an, GARMENT_TYPES, plural, withArticle } from '../catalog/vocabulary';
import { dominantColours } from '../catalog/colour';
import { imageAbsolutePath } from '../catalog/images';
import { Rng } from '../random';
import type { AgentInput, AgentName, AgentOutput, CallContext, Mllm, Turn } from './calls';

/**
 * The offline provider: deterministic from each call's key, no network. It writes every agent's
 * output from the real profile, scenario and item attributes (colour, material, pattern, type,
 * features), so a rejection names a true difference and a recommendation describes the item it
 * shows. Records made with it carry Simulated: true.
 */
export class SimulatedMllm implements Mllm {
  readonly provider = 'simulated' as const;

  async call<A extends AgentName>(agent: A, input: AgentInput<A>, ctx: CallContext): Promise<AgentOutput<A>> {
    const handler = HANDLERS[agent] as unknown as (
      i: AgentInput<A>,
      r: Rng,
    ) => AgentOutput<A> | Promise<AgentOutput<A>>;
    return handler(input, new Rng('simulated', ctx.key));
  }
}

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

type Handlers = { [A in AgentName]: (input: AgentInput<A>, rng: Rng) => AgentOutput<A> | Promise<AgentOutput<A>> };

/** Words too common to show that the assistant took up the shopper's situation. */
const STOP = new Set([
  'about',
  'their',
  'there',
  'which',
  'would',
  'could',
  'something',
  'really',
  'going',
  'attend',
  'celebrate',
]);

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const NEUTRALS = ['black', 'white', 'navy', 'beige', 'grey', 'camel', 'ivory', 'charcoal'];

/** Prefers a variant whose opening words have not been said yet in this dialogue (no repeated phrasing). */
function fresh(rng: Rng, variants: string[], dialogue: readonly Turn[] = []): string {
  const said = dialogue.map((t) => t.text.toLowerCase()).join('\n');
  const unused = variants.filter((v) => !said.includes(v.toLowerCase().split(' ').slice(0, 3).join(' ')));
  return rng.pick(unused.length ? unused : variants);
}

/** One phrase from each bank, joined: a few banks of a few phrases make hundreds of distinct lines. */
const compose = (rng: Rng, ...banks: string[][]) =>
  banks
    .map((b) => rng.pick(b))
    .filter(Boolean)
    .join(' ');

const SINGLE_SCENARIOS: Record<string, string> = {
  'Replace a favourite item that has worn out': 'replacing a favourite piece that has worn out',
  'Dress appropriately for a new work environment': 'starting in a new work environment',
  'Get ready for the change of season': 'getting ready for the change of season',
  'Keep up with a style that is trending right now': 'keeping up with a style that is trending right now',
};

/** A scenario as something a person is doing: "Attend a beach wedding" -> "going to a beach wedding". */
function situation(scenario: string): { first: string; third: string; short: string } {
  const m = /^(Attend|Buy|Celebrate|Sports need:) (.+)$/.exec(scenario);
  const what = m?.[2] ?? '';
  const act = !m
    ? (SINGLE_SCENARIOS[scenario] ?? 'planning something special')
    : m[1] === 'Attend'
      ? `going to ${what}`
      : m[1] === 'Buy'
        ? `buying ${what.replace(/ for an? /, ' for MY ')}`
        : m[1] === 'Celebrate'
          ? `celebrating ${what}`
          : `getting into ${what}`;
  const short =
    m?.[1] === 'Buy'
      ? what.replace(/^an? /, 'the ').replace(/ for an? /, ' for my ')
      : m?.[1] === 'Sports need:'
        ? what
        : act.replace(/^going to /, '');
  return { first: `I'm ${act.replace('MY', 'my')}`, third: act.replace('MY', 'their'), short };
}

const FEMALE = /\b(wife|girlfriend|fiancée|mother|mum|stepmother|grandmother|sister|niece|daughter|aunt)\b/;
const MALE = /\b(husband|boyfriend|fiancé(?!e)|father|dad|stepfather|grandfather|brother|nephew|son|uncle)\b/;
const CHILD = /\b(niece|nephew|godchild|grandchild|daughter|son|young|teenage|baby|newborn|twins)\b/;

/** Who a gift scenario's gift is for, as far as its words say: "a wife" is female, "a coworker" could be anyone. */
function recipient(scenario: string): { gender?: 'male' | 'female'; child: boolean } {
  const who = / for (.+)$/.exec(scenario)?.[1] ?? '';
  const f = FEMALE.test(who);
  const m = MALE.test(who);
  return { gender: f === m ? undefined : f ? 'female' : 'male', child: CHILD.test(who) };
}

function personaFacts(persona: string): { age: number; profession?: string } {
  const age = Number(/Age: (\d+)/.exec(persona)?.[1] ?? 30);
  const p = /Profession: ([^,]+)$/.exec(persona)?.[1];
  return { age, profession: p && p !== 'None' ? p : undefined };
}

type Feature = { kind: 'colour' | 'material' | 'pattern' | 'style' | 'feature'; value: string };
function featuresOf(a: ItemAttributes): Feature[] {
  const out: Feature[] = [];
  if (a.colour) out.push({ kind: 'colour', value: a.colour });
  if (a.material) out.push({ kind: 'material', value: a.material });
  if (a.pattern) out.push({ kind: 'pattern', value: a.pattern });
  if (a.style) out.push({ kind: 'style', value: a.style });
  for (const f of a.features.slice(0, 2)) out.push({ kind: 'feature', value: f });
  return out;
}
function phrase(f: Feature): string {
  switch (f.kind) {
    case 'colour':
      return `in ${f.value}`;
    case 'material':
      return `made of ${f.value}`;
    case 'pattern':
      return `with a ${f.value} pattern`;
    case 'style':
      return `in ${an(f.value)} style`;
    case 'feature':
      return `with ${f.value}`;
  }
}

/** Reads the needs a shopper has stated: the last mention of each attribute in their own requests wins. */
function statedNeeds(dialogue: readonly Turn[]): Record<string, string | undefined> {
  // What the user asked for: their turns of the opening, and their rejections; chit-chat about a shown item is not a request.
  const firstPitch = dialogue.findIndex((t) => t.action === 'recommend');
  const requests = dialogue.filter(
    (t, i) =>
      t.speaker === 'User' &&
      (t.action === 'reject' || (t.action === 'chit-chat' && (firstPitch < 0 || i < firstPitch))),
  );
  const text = requests.map((t) => t.text).join('\n');
  const occasion =
    /(?:going to|celebrating|getting into|buying|replacing|starting in|getting ready for|keeping up with) ([^.,!?]+)/i.exec(
      text,
    )?.[1];
  return {
    noun: lastWord(text, VOCABULARY.nouns),
    colour: lastWord(text, VOCABULARY.colours),
    material: lastWord(text, VOCABULARY.materials),
    pattern: lastWord(text, VOCABULARY.patterns),
    style: lastWord(text, VOCABULARY.styles),
    occasion,
  };
}

function queryFrom(n: Record<string, string | undefined>): string {
  return (
    [n.colour, n.pattern, n.material, n.style, n.noun].filter(Boolean).join(' ') +
    (n.occasion ? ` for ${n.occasion}` : '')
  );
}

function describe(a: ItemAttributes): string {
  return [a.colour, a.pattern, a.material, a.noun].filter(Boolean).join(' ');
}

const PAIRS: Record<string, string[]> = {
  tops: ['jeans', 'trousers', 'skirt', 'sneakers'],
  bottoms: ['shirt', 't-shirt', 'sweater', 'boots', 'sneakers'],
  dress: ['heels', 'sandals', 'handbag', 'necklace'],
  outer: ['sweater', 'jeans', 'boots', 'scarf'],
  shoes: ['jeans', 'trousers', 'dress', 'handbag'],
  accessory: ['dress', 'shirt', 'coat', 't-shirt'],
};
function pairGroup(noun: string): string {
  if (/t-shirt|shirt|sweater|hoodie|blazer/.test(noun)) return 'tops';
  if (/jeans|trousers|shorts|skirt/.test(noun)) return 'bottoms';
  if (/dress|swimsuit/.test(noun)) return 'dress';
  if (/jacket|coat/.test(noun)) return 'outer';
  if (/sneaker|boot|sandal|heel/.test(noun)) return 'shoes';
  return 'accessory';
}
const FORMAL = /wedding|gala|funeral|memorial|interview|ceremony|black-tie|board meeting|conference/i;

const EXPERIENCES: Record<string, string[]> = {
  linen: ['kept me cool through a whole heatwave', 'creased a lot, but I secretly liked the lived-in look'],
  leather: ['only got better with age', 'took a while to break in and then lasted for years'],
  wool: ['was the warmest thing I owned', 'survived a whole winter of early mornings'],
  denim: ['faded beautifully over the years', 'went with absolutely everything'],
  silk: ['felt amazing but needed careful washing', 'made me feel dressed up without trying'],
  cotton: ['was so comfortable I wore it constantly', 'held up through countless washes'],
};
function experience(rng: Rng, material?: string): string {
  const generic = [
    'turned out to be one of my favourite things',
    'got compliments every time I wore it',
    'was much comfier than I expected',
  ];
  return rng.pick(material && EXPERIENCES[material] ? [...EXPERIENCES[material], ...generic] : generic);
}

/** Word banks of the backstory grammar: `{name}` in a template takes one of a bank's words at random. */
const BANK: Record<string, string[]> = {
  when: [
    'next weekend',
    'in two weeks',
    'at month end',
    'this Friday',
    'in a few weeks',
    'early next month',
    'on Saturday',
    'in ten days',
    'soon after payday',
    'by the holidays',
    'next Sunday',
    'midweek',
  ],
  mood: [
    'excited',
    'nervous',
    'thrilled',
    'calm',
    'rushed',
    'proud',
    'overwhelmed',
    'hopeful',
    'restless',
    'cheerful',
    'uneasy',
    'giddy',
    'curious',
    'tense',
    'sentimental',
    'eager',
  ],
  because: [
    'it matters',
    'people will notice',
    'the year dragged',
    'last time flopped',
    'cameras will flash',
    'it marks a change',
    'planning took ages',
    'much rides on it',
    'family will watch',
    'old friends return',
    'a mentor attends',
    'it is overdue',
    'rumours spread',
    'expectations run high',
  ],
  count: [
    'twenty',
    'forty',
    'a dozen',
    'sixty',
    'thirty',
    'eighty',
    'fifteen',
    'a hundred',
    'ninety',
    'fifty',
    'seven',
    'eleven',
  ],
  crowd: [
    'guests',
    'people',
    'friends',
    'relatives',
    'teammates',
    'colleagues',
    'neighbours',
    'classmates',
    'strangers',
    'cousins',
  ],
  origin: [
    'out of town',
    'work',
    'school days',
    'the club',
    'next door',
    'abroad',
    'university',
    'the choir',
    'the gym',
    'church',
    'the office',
    'the old street',
  ],
  advisor: [
    'a colleague',
    'their sister',
    'a neighbour',
    'an old friend',
    'their partner',
    'a cousin',
    'a flatmate',
    'their mum',
    'their dad',
    'a teammate',
    'their boss',
    'a barista',
    'grandma',
    'their coach',
  ],
  urged: [
    'suggested',
    'pushed for',
    'recommended',
    'hinted at',
    'argued for',
    'swore by',
    'begged for',
    'voted for',
    'mentioned',
    'warned against',
  ],
  idea: [
    'practicality',
    'boldness',
    'simplicity',
    'comfort',
    'timelessness',
    'colour',
    'quality',
    'sparkle',
    'restraint',
    'texture',
    'versatility',
    'elegance',
    'playfulness',
    'minimalism',
  ],
  mishap: [
    'a zip broke',
    'seams split',
    'rain soaked everything',
    'shoes pinched',
    'colours clashed',
    'fabric itched',
    'a button popped',
    'the fit sagged',
    'a strap snapped',
    'sleeves shrank',
    'dye bled',
    'a hem unravelled',
  ],
  moment: [
    'halfway through',
    'within an hour',
    'before dinner',
    'on arrival',
    'by evening',
    'mid-speech',
    'during photos',
    'at midnight',
    'before dessert',
    'on the dance floor',
  ],
  money: ['budget', 'money', 'spending', 'cost', 'price', 'cash'],
  moneyState: [
    'runs tight',
    'matters little',
    'needs care',
    'feels flexible',
    'worries them',
    'seems fine',
    'stays modest',
    'is stretched',
  ],
  priority: [
    'durability',
    'fit',
    'fast delivery',
    'easy returns',
    'quality',
    'comfort',
    'washability',
    'warmth',
    'breathability',
    'sturdiness',
  ],
  shops: [
    'local shops',
    'nearby stores',
    'boutiques',
    'department stores',
    'malls',
    'market stalls',
    'outlet stores',
    'charity shops',
  ],
  shopFlaw: [
    'close early',
    'feel crowded',
    'lack choice',
    'sit miles away',
    'stock little',
    'charge too much',
    'stay shut Sundays',
    'sell out fast',
  ],
  channel: [
    'browsing online',
    'ordering online',
    'an online assistant',
    'sofa shopping',
    'a web search',
    'an app',
    'online chat',
  ],
  slot: [
    'tonight',
    'after work',
    'this evening',
    'on the train',
    'at lunch',
    'before bed',
    'over breakfast',
    'on Sunday',
  ],
  weather: [
    'warm',
    'chilly',
    'wet',
    'windy',
    'mild',
    'sunny',
    'changeable',
    'humid',
    'frosty',
    'stormy',
    'grey',
    'bright',
  ],
  place: [
    'a garden',
    'a rooftop',
    'a village hall',
    'a beach',
    'a barn',
    'a hotel',
    'a park',
    'a community centre',
    'a riverside terrace',
    'a gym hall',
    'a library',
    'a marquee',
  ],
  hobby: [
    'gardening',
    'chess',
    'baking',
    'cycling',
    'painting',
    'birdwatching',
    'pottery',
    'jazz',
    'hiking',
    'knitting',
    'photography',
    'climbing',
    'salsa',
    'sudoku',
  ],
  style: [
    'understated',
    'colourful',
    'sporty',
    'classic',
    'quirky',
    'rugged',
    'polished',
    'relaxed',
    'vintage',
    'sleek',
  ],
};
const STORY_KINDS: string[][] = [
  [
    '{who} feels {mood}, as {because}.',
    'Mood: {mood}, since {because}.',
    '{mood}? Yes, because {because}.',
    'Feelings run {mood}; {because}.',
  ],
  [
    'Roughly {count} {crowd} from {origin} will come.',
    '{count} {crowd} are expected, many from {origin}.',
    'Invites went to {count} {crowd} ({origin}).',
    'Expect {count} {crowd}, mostly {origin} folk.',
  ],
  [
    '{advisor} {urged} {idea}.',
    '{advisor} once {urged} {idea}; noted.',
    'Advice from {advisor}: {idea}.',
    '{idea} was what {advisor} {urged}.',
  ],
  [
    'Previously {mishap} {moment}.',
    'Once {mishap} {moment}, sadly.',
    'Memory: {mishap} {moment}.',
    'Never again: {mishap} {moment}.',
  ],
  [
    '{money} {moneyState}; {priority} counts.',
    '{money} {moneyState}, {priority} rules.',
    '{priority} over all; {money} {moneyState}.',
    '{money}? It {moneyState}. {priority} first.',
  ],
  [
    '{shops} {shopFlaw}, hence {channel} {slot}.',
    '{shops} {shopFlaw}: {channel}, {slot}.',
    'With {shops} that {shopFlaw}, {channel} {slot} wins.',
    '{channel} {slot}, since {shops} {shopFlaw}.',
  ],
  [
    'Forecast: {weather}, venue {place}.',
    'Expect {weather} skies over {place}.',
    '{place}, probably {weather}.',
    'It happens at {place}; {weather} likely.',
  ],
  [
    'Away from work {who} loves {hobby}.',
    '{hobby} fills spare weekends.',
    'Known for {hobby}, {who} dresses {style}.',
    'Friends call the look {style}; {hobby} too.',
  ],
];

/**
 * A backstory from a grammar: an opening about the person and the occasion, then six of eight kinds of
 * short sentence in a shuffled order, each a template whose slots are filled from word banks. Slots sit
 * close together, so two stories rarely share a run of four words and most pass the method's BLEU dedup.
 */
function story(rng: Rng, name: string, age: number, profession: string | undefined, doing: string): string {
  const first = name.split(' ')[0];
  const fill = (template: string) =>
    template.replace(/\{(\w+)\}/g, (_, k: string) =>
      k === 'who' ? rng.pick([first, name, `this ${profession ?? `${age}-year-old`}`]) : rng.pick(BANK[k]),
    );
  const opening = cap(
    fill(
      rng.pick([
        `${name}, ${profession ? an(profession) : `aged ${age}`}, is ${doing} {when}.`,
        `{when}: ${name} is ${doing}.`,
        `${name} (${age}) is ${doing} {when}.`,
        `${cap(doing)} {when} is what ${first}${profession ? ` the ${profession}` : ''} faces.`,
      ]),
    ),
  );
  const body = rng
    .shuffle(STORY_KINDS)
    .slice(0, 6)
    .map((k) => cap(fill(rng.pick(k))));
  return [opening, ...body].join(' ');
}

const HANDLERS: Handlers = {
  backstoryWriter({ sample, persona, target }, rng) {
    const t = readAttributes(target);
    const s = situation(sample.scenario);
    const { profession } = personaFacts(persona);
    const [f1, f2] = rng.shuffle(featuresOf(t)).slice(0, 2);
    const requirement = cap(
      `${withArticle(t.noun, t.noun)} ${f1 ? phrase(f1) : ''}${f2 ? ` and ${phrase(f2)}` : ''}.`.replace(/ +\./, '.'),
    );
    // The story never names the product; only the requirement says what kind of thing is wanted.
    return { scenario: story(rng, sample.name, sample.age, profession, s.third), requirement };
  },

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
    const sporty = /^Sports need/.test(user.scenario);
    const scenario_appropriateness =
      !(sporty && /heel|blazer|necklace|coat/.test(c.noun)) &&
      !(FORMAL.test(user.scenario) && /hoodie|cap|shorts|sneaker/.test(c.noun));
    return { outfit_compatibility, scenario_appropriateness };
  },

  imageOpening({ bought, target }, rng) {
    const b = readAttributes(bought);
    const t = readAttributes(target);
    const visual = [
      t.colour && `something ${t.colour}`,
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
    const was = `${m[1] ?? ''}${m[2]}`;
    const want = m[4] === 'plain' ? 'a plain, solid look' : `${m[3] ?? ''}${m[4]}`;
    const wantSomething = m[3] ? want : m[4] === 'plain' ? want : `something ${want}`;
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

  async itemCaptioner({ item }) {
    const a = readAttributes(item);
    // What the photo shows, read from its pixels: the named colours covering most of the product.
    const seen = item.imagePath ? await dominantColours(imageAbsolutePath(item.imagePath)) : [];
    const look = [a.colour ?? seen[0], a.pattern, a.material].filter(Boolean).join(' ');
    const details = a.features.slice(0, 3).join(', ');
    const photo = seen.length ? ` In the photo it is mostly ${seen[0]}${seen[1] ? `, with ${seen[1]}` : ''}.` : '';
    return {
      description: (
        `${cap(withArticle(look ? `${look} ${a.noun}` : a.noun, a.noun))}${a.style ? ` in ${an(a.style)} style` : ''}.${photo}` +
        `${details ? ` Details: ${details}.` : ''}${a.occasion ? ` Made for ${a.occasion}.` : ''} ${item.description}`
      ).trim(),
    };
  },

  categoryFilter({ category }) {
    // A tag is a product type when it names a kind of thing to wear, not an audience or a whole department.
    const c = category.toLowerCase();
    const generic =
      /^(clothing|clothing, shoes & jewelry|women|men|girls|boys|baby|unisex|accessories|jewelry|shoes|fashion|novelty.*|uniforms.*|costumes.*)$/;
    return {
      is_product_type:
        !generic.test(c) && (VOCABULARY.nouns.some((n) => c.includes(n) || n.includes(c)) || /s$/.test(c)),
    };
  },

  profileGate({ sample, target }) {
    const title = target.title;
    const t = readAttributes(target);
    // A gift is judged against the person it is for, as far as the scenario tells; anything else against the shopper.
    const gift = /^Buy /.test(sample.scenario) ? recipient(sample.scenario) : undefined;
    const gender = gift ? gift.gender : sample.gender;
    const child = gift ? gift.child : sample.age <= 15;
    const fits_person =
      !(/\bWomen's\b|\bGirls'/.test(title) && gender === 'male') &&
      !(/\bMen's\b|\bBoys'/.test(title) && gender === 'female') &&
      !(/\b(Girls'|Boys')/.test(title) && !child) &&
      !(!gift && sample.age <= 12 && /heel|blazer|watch|necklace|coat/.test(t.noun) && !/\b(Girls'|Boys')/.test(title));
    const fits_scenario =
      !(/^Sports need/.test(sample.scenario) && /heel|blazer|necklace|coat/.test(t.noun)) &&
      !(FORMAL.test(sample.scenario) && /hoodie|cap|shorts|swimsuit/.test(t.noun));
    return {
      fits_person,
      fits_scenario,
      reason:
        fits_person && fits_scenario
          ? `${cap(withArticle(t.noun, t.noun))} suits a ${sample.age}-year-old for this`
          : !fits_person
            ? `${title} is made for someone else`
            : `${cap(withArticle(t.noun, t.noun))} does not suit "${sample.scenario}"`,
    };
  },

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
    const opening = (t: Turn) => `${t.speaker}:${t.text.toLowerCase().split(/\s+/).slice(0, 3).join(' ')}`;
    const repeats = new Set(dialogue.map(opening)).size < dialogue.length;
    const logical_fluency = Math.max(0, (alternates ? 1 : 0) + (ends ? 1 : 0) - (repeats ? 1 : 0));
    const wanted = lastWord(user.requirement, VOCABULARY.colours);
    const accepted = dialogue[dialogue.length - 1]?.text ?? '';
    const user_consistency = !wanted || accepted.toLowerCase().includes(wanted) ? 2 : 1;
    return { content_quality, logical_fluency, user_consistency };
  },

  recommendationScreener({ user, recommendedItems }) {
    const sporty = /^Sports need/.test(user.scenario);
    const bad = recommendedItems.some((it) => {
      const n = readAttributes(it).noun;
      return (
        (sporty && /heel|blazer|necklace/.test(n)) || (FORMAL.test(user.scenario) && /hoodie|cap|swimsuit/.test(n))
      );
    });
    return { fits_context: !bad };
  },

  /**
   * Scores from what can be checked without a model: repeated phrasing (naturalness), turn order and an
   * ending (coherence), product words (richness), the situation's words in the assistant's turns
   * (relevance), and whether a turn names the colour that covers most of the image it shows (pixels read).
   */
  async datasetJudge({ scenario, dialogue, images }) {
    const clamp = (n: number) => Math.max(1, Math.min(5, Math.round(n)));
    const openings = dialogue.map((t) => `${t.speaker}:${t.text.toLowerCase().split(/\s+/).slice(0, 3).join(' ')}`);
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
