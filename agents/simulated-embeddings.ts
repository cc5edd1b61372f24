import { COLOURS, GARMENT_TYPES, MATERIALS, PATTERNS } from '../catalog/vocabulary';
import { hashSeed } from '../random';
import { normalise, type Embedder } from './embedder';

/**
 * The simulated provider's embedding model: offline and deterministic, and honest about what it is.
 * A text becomes a bag of features (stemmed words, their character trigrams, and the concepts a real
 * embedding model would place them near), hashed into a fixed number of dimensions and normalised.
 * The concepts are what make it more than full-text search: "trainers" lands near "sneakers", "navy"
 * near "blue", "gala" near "cocktail". What an item looks like reaches it through the stage-1 caption,
 * which the simulated captioner writes from the image's pixels.
 */
export class SimulatedEmbedder implements Embedder {
  readonly model: string;
  readonly batchSize = 256;
  constructor(readonly dims = 256) {
    this.model = `simulated-concepts-v1@${dims}`;
  }
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => embedText(t, this.dims));
  }
}

const STOP = new Set(
  (
    'the and for with that this from they them their there have has had was were are its into onto about your you ' +
    'our who what when where which will would could should been being than then also just very much many more most some such ' +
    'made make comes come style piece item one ideal'
  ).split(' '),
);

/** Crude English stemming, enough to meet plurals and verb forms halfway. */
function stem(w: string): string {
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && /(sses|xes|ches|shes)$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) return w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) return w.slice(0, -3);
  if (w.length > 4 && w.endsWith('ed')) return w.slice(0, -2);
  return w;
}

/** Groups of words an embedding model would put close together; our own, small, clothing-minded. */
const RELATED: Record<string, string> = {
  formal:
    'wedding gala ceremony formal cocktail elegant elegance tailored black-tie interview funeral memorial conference banquet opera evening dressy suit blazer heel satin silk velvet',
  outdoor:
    'hiking hike trail camping camp outdoor outdoors waterproof rain lug adventure adventures mountain trek festival weather windy',
  sport:
    'running run gym training sport sports yoga tennis cycling workout marathon match game team athletic quick-dry sporty fitness',
  summer: 'beach summer swim swimming pool sun sunny holiday vacation resort upf linen sandal straw tropical heat hot',
  winter: 'winter cold snow ski skiing warm warmth wool fleece cashmere lined insulated cosy cozy chilly frost',
  party:
    'party celebrate celebration birthday dinner anniversary festive night club dance dancing reunion bar mitzvah graduation',
  gift: 'gift gifts present gifting wrap surprise',
  comfort: 'comfort comfortable soft cushioned relaxed breathable easy',
  travel: 'travel trip airport flight journey luggage packable abroad',
  work: 'office work meeting business professional commute colleague coworker',
  women: 'women woman female her she mother mum mom sister daughter wife girlfriend bride aunt grandmother niece',
  men: 'men man male his him father dad brother son husband boyfriend groom uncle grandfather nephew',
  kids: 'kid kids child children boy boys girl girls toddler teen teenage school',
};

/**
 * Stems of the clothing vocabulary (types, styles, features, colours, materials, patterns): a model
 * trained on shopping text weighs these over a story's small talk, so they count more here.
 */
const SALIENT = new Set(
  [
    ...GARMENT_TYPES.flatMap((t) => [t.category, t.singular, t.silhouette, ...t.styles, ...t.features, ...t.materials]),
    ...Object.keys(COLOURS),
    ...MATERIALS,
    ...PATTERNS,
  ]
    .flatMap((x) => x.toLowerCase().split(/[^a-z0-9-]+/))
    .filter((w) => w.length > 2 && !STOP.has(w))
    .map(stem),
);

/** word stem -> the concepts it belongs to: the related groups, plus each garment type, colour family and material. */
const CONCEPTS = (() => {
  const m = new Map<string, string[]>();
  const add = (concept: string, words: string) => {
    for (const w of words
      .toLowerCase()
      .split(/[^a-z-]+/)
      .filter((x) => x.length > 2)) {
      const s = stem(w);
      m.set(s, [...(m.get(s) ?? []), concept]);
    }
  };
  for (const [c, words] of Object.entries(RELATED)) add(c, words);
  for (const t of GARMENT_TYPES)
    add(`type:${t.silhouette}`, `${t.category} ${t.singular} ${t.silhouette} ${t.department}`);
  add('type:sneaker', 'trainers trainer kicks');
  add('type:trousers', 'pants slacks chinos');
  add('type:tee', 'tshirt t-shirt top');
  add('type:handbag', 'purse bag tote');
  for (const [name, hex] of Object.entries(COLOURS)) add(`colour:${colourFamily(hex)}`, name);
  for (const mat of MATERIALS) add(`material:${mat.split(' ').pop()}`, mat);
  return m;
})();

/** A colour's family from its hue (greys by lightness), so that navy meets blue and burgundy meets red. */
function colourFamily(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  if (max - min < 0.12) return max > 0.8 ? 'light' : max < 0.3 ? 'dark' : 'grey';
  const h =
    max === r ? ((g - b) / (max - min) + 6) % 6 : max === g ? (b - r) / (max - min) + 2 : (r - g) / (max - min) + 4;
  return ['red', 'yellow', 'green', 'cyan', 'blue', 'magenta'][Math.round(h) % 6];
}

/** Word and concept features count fully, trigrams a little: enough to meet a typo or a compound halfway. */
const WEIGHT: Record<string, number> = { w: 1, c: 2, t: 0.25 };
const SALIENCE = 2.5;

function embedText(text: string, dims: number): Float32Array {
  const counts = new Map<string, number>();
  const bump = (f: string) => counts.set(f, (counts.get(f) ?? 0) + 1);
  for (const raw of text.toLowerCase().split(/[^a-z0-9-]+/)) {
    if (raw.length < 3 || STOP.has(raw)) continue;
    const s = stem(raw);
    bump(`w:${s}`);
    for (const c of CONCEPTS.get(s) ?? []) bump(`c:${c}`);
    const padded = `^${s}$`;
    for (let i = 0; i + 3 <= padded.length; i++) bump(`t:${padded.slice(i, i + 3)}`);
  }
  const v = new Float32Array(dims);
  for (const [f, n] of counts) {
    const h = hashSeed('embed', f);
    // Sublinear in repeats, so a long description does not drown its rare words.
    const salience = f[0] === 'w' && SALIENT.has(f.slice(2)) ? SALIENCE : 1;
    v[h % dims] += (h & 0x80000000 ? -1 : 1) * WEIGHT[f[0]] * salience * (1 + Math.log(n));
  }
  return normalise(v);
}
