import { openingOf } from '../../metrics/text';
import { lastWord, VOCABULARY, type ItemAttributes } from '../../catalog/attributes';
import { an, COLOURS, rgbOf } from '../../catalog/vocabulary';
import { type Rng } from '../../random';
import { type Turn } from '../../schemas/agent-calls';

/** The simulated agents' shared rules: how they read a scenario, a person, an item and a dialogue. */

/** Words too common to show that the assistant took up the shopper's situation. */
export const STOP = new Set([
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

export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
export const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
export const NEUTRALS = ['black', 'white', 'navy', 'beige', 'grey', 'camel', 'ivory', 'charcoal'];

/** Prefers a variant whose opening words have not been said yet in this dialogue (no repeated phrasing). */
export function fresh(rng: Rng, variants: string[], dialogue: readonly Turn[] = []): string {
  const said = dialogue.map((t) => t.text.toLowerCase()).join('\n');
  const unused = variants.filter((v) => !said.includes(v.toLowerCase().split(' ').slice(0, 3).join(' ')));
  return rng.pick(unused.length ? unused : variants);
}

/** One phrase from each bank, joined: a few banks of a few phrases make hundreds of distinct lines. */
export const compose = (rng: Rng, ...banks: string[][]) =>
  banks
    .map((b) => rng.pick(b))
    .filter(Boolean)
    .join(' ');

export const SINGLE_SCENARIOS: Record<string, string> = {
  'Replace a favourite item that has worn out': 'replacing a favourite piece that has worn out',
  'Dress appropriately for a new work environment': 'starting in a new work environment',
  'Get ready for the change of season': 'getting ready for the change of season',
  'Keep up with a style that is trending right now': 'keeping up with a style that is trending right now',
};

/** A scenario as something a person is doing: "Attend a beach wedding" -> "going to a beach wedding". */
export function situation(scenario: string): { first: string; third: string; short: string } {
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

export const FEMALE = /\b(wife|girlfriend|fiancée|mother|mum|stepmother|grandmother|sister|niece|daughter|aunt)\b/;
export const MALE = /\b(husband|boyfriend|fiancé(?!e)|father|dad|stepfather|grandfather|brother|nephew|son|uncle)\b/;
export const CHILD = /\b(niece|nephew|godchild|grandchild|daughter|son|young|teenage|baby|newborn|twins)\b/;

/** Who a gift scenario's gift is for, as far as its words say: "a wife" is female, "a coworker" could be anyone. */
export function recipient(scenario: string): { gender?: 'male' | 'female'; child: boolean } {
  const who = / for (.+)$/.exec(scenario)?.[1] ?? '';
  const f = FEMALE.test(who);
  const m = MALE.test(who);
  return { gender: f === m ? undefined : f ? 'female' : 'male', child: CHILD.test(who) };
}

export function personaFacts(persona: string): { age: number; profession?: string } {
  const age = Number(/Age: (\d+)/.exec(persona)?.[1] ?? 30);
  const p = /Profession: ([^,]+)$/.exec(persona)?.[1];
  return { age, profession: p && p !== 'None' ? p : undefined };
}

/**
 * How a shopper names a catalog colour: by its everyday family ("blue" for navy, sky blue and teal),
 * the way people describe what they want before they have seen the shades on offer. A real user agent
 * does not speak the catalog's exact vocabulary, and an exact shade in every request made retrieval
 * land on the target far more often than the published conversations' length allows.
 */
export const COLOUR_FAMILY: Readonly<Record<string, string>> = {
  black: 'black',
  white: 'white',
  ivory: 'white',
  grey: 'grey',
  charcoal: 'grey',
  navy: 'blue',
  blue: 'blue',
  'sky blue': 'blue',
  teal: 'blue',
  green: 'green',
  olive: 'green',
  'sage green': 'green',
  red: 'red',
  burgundy: 'red',
  pink: 'pink',
  blush: 'pink',
  coral: 'pink',
  orange: 'orange',
  mustard: 'yellow',
  yellow: 'yellow',
  beige: 'brown',
  camel: 'brown',
  brown: 'brown',
  tan: 'brown',
  purple: 'purple',
  lavender: 'purple',
  silver: 'silver',
  gold: 'gold',
};
const lightness = (colour: string) => {
  const rgb = rgbOf(COLOURS[colour] ?? '#808080');
  return Math.max(...rgb) + Math.min(...rgb);
};
/**
 * The colour words a shopper uses for `colour`: its family; against a shown item of the same family,
 * the way it differs ("darker blue"), since people compare shades rather than name them.
 */
export const spokenColour = (colour: string, against?: string): string => {
  const family = COLOUR_FAMILY[colour] ?? colour;
  if (!against || COLOUR_FAMILY[against] !== family || against === colour) return family;
  return `${lightness(colour) <= lightness(against) ? 'darker' : 'lighter'} ${family}`;
};

/** How materials feel, in the words a shopper uses when a shown item is made of the wrong stuff. */
const FEELS: Readonly<Record<string, readonly string[]>> = {
  warmer: ['wool', 'merino wool', 'cashmere', 'fleece', 'tweed', 'corduroy', 'velvet'],
  'lighter and airier': ['linen', 'cotton', 'organic cotton', 'chiffon', 'mesh', 'straw', 'jersey'],
  'smoother and silkier': ['silk', 'satin'],
  sturdier: ['denim', 'leather', 'suede', 'canvas', 'nylon', 'polyester', 'recycled polyester', 'spandex blend'],
};
const MATERIAL_FEEL: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(FEELS).flatMap(([feel, materials]) => materials.map((m) => [m, feel])),
);
/**
 * What a shopper says about a material against a shown item: how it should feel ("something warmer"),
 * and the material's own name only when both feel alike and the name is what tells them apart.
 */
export const spokenMaterial = (material: string, against: string): string | undefined => {
  const feel = MATERIAL_FEEL[material];
  return feel && feel !== MATERIAL_FEEL[against] ? feel : undefined;
};

export type Feature = { kind: 'colour' | 'material' | 'pattern' | 'style' | 'feature'; value: string };
export function featuresOf(a: ItemAttributes): Feature[] {
  const out: Feature[] = [];
  if (a.colour) out.push({ kind: 'colour', value: a.colour });
  if (a.material) out.push({ kind: 'material', value: a.material });
  if (a.pattern) out.push({ kind: 'pattern', value: a.pattern });
  if (a.style) out.push({ kind: 'style', value: a.style });
  for (const f of a.features.slice(0, 2)) out.push({ kind: 'feature', value: f });
  return out;
}
export function phrase(f: Feature): string {
  switch (f.kind) {
    case 'colour':
      return `in ${spokenColour(f.value)}`;
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
export function statedNeeds(dialogue: readonly Turn[]): Record<string, string | undefined> {
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

export function queryFrom(n: Record<string, string | undefined>): string {
  return (
    [n.colour, n.pattern, n.material, n.style, n.noun].filter(Boolean).join(' ') +
    (n.occasion ? ` for ${n.occasion}` : '')
  );
}

export function describe(a: ItemAttributes): string {
  return [a.colour, a.pattern, a.material, a.noun].filter(Boolean).join(' ');
}

export const PAIRS: Record<string, string[]> = {
  tops: ['jeans', 'trousers', 'skirt', 'sneakers'],
  bottoms: ['shirt', 't-shirt', 'sweater', 'boots', 'sneakers'],
  dress: ['heels', 'sandals', 'handbag', 'necklace'],
  outer: ['sweater', 'jeans', 'boots', 'scarf'],
  shoes: ['jeans', 'trousers', 'dress', 'handbag'],
  accessory: ['dress', 'shirt', 'coat', 't-shirt'],
};
export function pairGroup(noun: string): string {
  if (/t-shirt|shirt|sweater|hoodie|blazer/.test(noun)) return 'tops';
  if (/jeans|trousers|shorts|skirt/.test(noun)) return 'bottoms';
  if (/dress|swimsuit/.test(noun)) return 'dress';
  if (/jacket|coat/.test(noun)) return 'outer';
  if (/sneaker|boot|sandal|heel/.test(noun)) return 'shoes';
  return 'accessory';
}
/** Items a scenario rules out, by noun: one rule for the outfit judge, the profile gate and the screener. */
const NOT_FOR_SPORT = /heel|blazer|necklace|coat/;
const NOT_FOR_FORMAL = /hoodie|cap|shorts|sneaker|swimsuit/;
export const unfitFor = (scenario: string, noun: string): boolean =>
  (/^Sports need/.test(scenario) && NOT_FOR_SPORT.test(noun)) || (FORMAL.test(scenario) && NOT_FOR_FORMAL.test(noun));

/** A speaker's turn by its first three words: the same key twice is a repeated opening. */
export const turnOpening = (t: Pick<Turn, 'speaker' | 'text'>) => `${t.speaker}:${openingOf(t.text, 3)}`;

export const FORMAL = /wedding|gala|funeral|memorial|interview|ceremony|black-tie|board meeting|conference/i;

export const EXPERIENCES: Record<string, string[]> = {
  linen: ['kept me cool through a whole heatwave', 'creased a lot, but I secretly liked the lived-in look'],
  leather: ['only got better with age', 'took a while to break in and then lasted for years'],
  wool: ['was the warmest thing I owned', 'survived a whole winter of early mornings'],
  denim: ['faded beautifully over the years', 'went with absolutely everything'],
  silk: ['felt amazing but needed careful washing', 'made me feel dressed up without trying'],
  cotton: ['was so comfortable I wore it constantly', 'held up through countless washes'],
};
export function experience(rng: Rng, material?: string): string {
  const generic = [
    'turned out to be one of my favourite things',
    'got compliments every time I wore it',
    'was much comfier than I expected',
  ];
  return rng.pick(material && EXPERIENCES[material] ? [...EXPERIENCES[material], ...generic] : generic);
}
