/**
 * The clothing vocabulary shared by the demo catalog (which writes items with it) and the attribute
 * reader (which finds colour, material, pattern and type in any item's text, demo or Amazon).
 */

export const COLOURS: Record<string, string> = {
  black: '#1f1f1f',
  white: '#f4f4f0',
  ivory: '#efe8d6',
  grey: '#8a8d91',
  charcoal: '#3d4045',
  navy: '#1f2d52',
  blue: '#2f64b8',
  'sky blue': '#8cc3ea',
  teal: '#1f7f7f',
  green: '#3b7d3a',
  olive: '#6d6b2f',
  'sage green': '#9cae8c',
  red: '#b8302f',
  burgundy: '#6b1f2f',
  pink: '#e48aa8',
  blush: '#efc3c0',
  coral: '#ef7c62',
  orange: '#e07b2a',
  mustard: '#d2a224',
  yellow: '#f0d34a',
  beige: '#d8c4a0',
  camel: '#b58a55',
  brown: '#6e4a2f',
  tan: '#c29a6b',
  purple: '#6a3f95',
  lavender: '#b7a3d9',
  silver: '#c0c4c8',
  gold: '#c9a43a',
};

export const PATTERNS = ['solid', 'striped', 'checked', 'polka dot', 'floral'] as const;
export type Pattern = (typeof PATTERNS)[number];

export const MATERIALS = [
  'organic cotton',
  'cotton',
  'linen',
  'silk',
  'chiffon',
  'satin',
  'wool',
  'merino wool',
  'cashmere',
  'denim',
  'leather',
  'suede',
  'canvas',
  'nylon',
  'polyester',
  'fleece',
  'jersey',
  'corduroy',
  'mesh',
  'recycled polyester',
  'stainless steel',
  'sterling silver',
  'acetate',
  'straw',
  'spandex blend',
  'velvet',
  'tweed',
] as const;

export type Silhouette =
  | 'tee'
  | 'shirt'
  | 'sweater'
  | 'hoodie'
  | 'jacket'
  | 'coat'
  | 'dress'
  | 'skirt'
  | 'trousers'
  | 'shorts'
  | 'sneaker'
  | 'boot'
  | 'sandal'
  | 'heel'
  | 'hat'
  | 'cap'
  | 'scarf'
  | 'handbag'
  | 'backpack'
  | 'belt'
  | 'sunglasses'
  | 'watch'
  | 'necklace'
  | 'swimsuit';

export interface GarmentType {
  /** The leaf category tag, as Amazon's category paths name it. */
  category: string;
  singular: string;
  department: 'Clothing' | 'Shoes' | 'Accessories' | 'Jewelry';
  silhouette: Silhouette;
  audiences: readonly string[];
  materials: readonly string[];
  styles: readonly string[];
  features: readonly string[];
  price: readonly [number, number];
  patterned: boolean;
}

const WEAR = ['machine washable', 'breathable fabric', 'soft hand feel', 'tag-free neckline'];
export const GARMENT_TYPES: readonly GarmentType[] = [
  {
    category: 'T-Shirts',
    singular: 'T-Shirt',
    department: 'Clothing',
    silhouette: 'tee',
    audiences: ['Women', 'Men', 'Girls', 'Boys'],
    materials: ['organic cotton', 'cotton', 'jersey', 'linen'],
    styles: ['crew neck', 'V-neck', 'relaxed fit', 'slim fit', 'oversized'],
    features: [...WEAR, 'short sleeves', 'ribbed collar'],
    price: [12, 35],
    patterned: true,
  },
  {
    category: 'Shirts',
    singular: 'Shirt',
    department: 'Clothing',
    silhouette: 'shirt',
    audiences: ['Women', 'Men', 'Boys'],
    materials: ['cotton', 'linen', 'silk', 'corduroy', 'denim'],
    styles: ['button-down', 'slim fit', 'regular fit', 'band collar'],
    features: ['button front', 'long sleeves', 'chest pocket', 'curved hem', 'wrinkle-resistant'],
    price: [25, 80],
    patterned: true,
  },
  {
    category: 'Sweaters',
    singular: 'Sweater',
    department: 'Clothing',
    silhouette: 'sweater',
    audiences: ['Women', 'Men', 'Girls'],
    materials: ['merino wool', 'cashmere', 'wool', 'cotton'],
    styles: ['cable-knit', 'crew neck', 'turtleneck', 'cropped'],
    features: ['ribbed cuffs', 'long sleeves', 'warm and lightweight', 'hand wash'],
    price: [35, 140],
    patterned: false,
  },
  {
    category: 'Hoodies',
    singular: 'Hoodie',
    department: 'Clothing',
    silhouette: 'hoodie',
    audiences: ['Women', 'Men', 'Boys', 'Girls'],
    materials: ['fleece', 'cotton', 'recycled polyester'],
    styles: ['pullover', 'zip-up', 'oversized'],
    features: ['kangaroo pocket', 'drawstring hood', 'brushed interior', 'machine washable'],
    price: [28, 70],
    patterned: false,
  },
  {
    category: 'Jackets',
    singular: 'Jacket',
    department: 'Clothing',
    silhouette: 'jacket',
    audiences: ['Women', 'Men'],
    materials: ['leather', 'denim', 'nylon', 'suede', 'corduroy'],
    styles: ['bomber', 'biker', 'trucker', 'cropped', 'quilted'],
    features: ['zip closure', 'two side pockets', 'water-resistant', 'lined', 'snap cuffs'],
    price: [60, 220],
    patterned: false,
  },
  {
    category: 'Coats',
    singular: 'Coat',
    department: 'Clothing',
    silhouette: 'coat',
    audiences: ['Women', 'Men'],
    materials: ['wool', 'tweed', 'cashmere', 'nylon'],
    styles: ['double-breasted', 'trench', 'long', 'belted'],
    features: ['fully lined', 'notch lapels', 'button closure', 'warm for winter'],
    price: [90, 320],
    patterned: true,
  },
  {
    category: 'Blazers',
    singular: 'Blazer',
    department: 'Clothing',
    silhouette: 'jacket',
    audiences: ['Women', 'Men'],
    materials: ['wool', 'linen', 'velvet', 'tweed'],
    styles: ['single-breasted', 'tailored', 'relaxed'],
    features: ['notch lapels', 'flap pockets', 'half lined', 'two-button front'],
    price: [70, 260],
    patterned: true,
  },
  {
    category: 'Dresses',
    singular: 'Dress',
    department: 'Clothing',
    silhouette: 'dress',
    audiences: ['Women', 'Girls'],
    materials: ['silk', 'chiffon', 'linen', 'cotton', 'satin', 'velvet'],
    styles: ['midi', 'maxi', 'A-line', 'wrap', 'sleeveless', 'cocktail'],
    features: ['hidden side zip', 'fully lined', 'adjustable straps', 'flowy skirt', 'fitted waist'],
    price: [35, 180],
    patterned: true,
  },
  {
    category: 'Skirts',
    singular: 'Skirt',
    department: 'Clothing',
    silhouette: 'skirt',
    audiences: ['Women', 'Girls'],
    materials: ['denim', 'linen', 'satin', 'wool', 'corduroy'],
    styles: ['pleated', 'A-line', 'pencil', 'midi', 'mini'],
    features: ['high-waisted', 'back zip', 'elastic waistband', 'lined'],
    price: [25, 90],
    patterned: true,
  },
  {
    category: 'Jeans',
    singular: 'Jeans',
    department: 'Clothing',
    silhouette: 'trousers',
    audiences: ['Women', 'Men', 'Boys', 'Girls'],
    materials: ['denim'],
    styles: ['straight leg', 'skinny', 'bootcut', 'wide leg', 'relaxed'],
    features: ['five pockets', 'stretch', 'button fly', 'mid rise', 'high rise'],
    price: [35, 120],
    patterned: false,
  },
  {
    category: 'Trousers',
    singular: 'Trousers',
    department: 'Clothing',
    silhouette: 'trousers',
    audiences: ['Women', 'Men'],
    materials: ['wool', 'linen', 'cotton', 'corduroy'],
    styles: ['tailored', 'wide leg', 'chino', 'pleated'],
    features: ['side pockets', 'belt loops', 'crease front', 'zip fly'],
    price: [40, 130],
    patterned: true,
  },
  {
    category: 'Shorts',
    singular: 'Shorts',
    department: 'Clothing',
    silhouette: 'shorts',
    audiences: ['Women', 'Men', 'Boys', 'Girls'],
    materials: ['cotton', 'linen', 'denim', 'nylon'],
    styles: ['chino', 'cargo', 'running', 'paper-bag waist'],
    features: ['elastic waistband', 'side pockets', 'quick-dry', 'drawstring'],
    price: [18, 60],
    patterned: true,
  },
  {
    category: 'Swimsuits',
    singular: 'Swimsuit',
    department: 'Clothing',
    silhouette: 'swimsuit',
    audiences: ['Women', 'Girls'],
    materials: ['spandex blend', 'recycled polyester', 'nylon'],
    styles: ['one-piece', 'racerback', 'halter'],
    features: ['UPF 50+ protection', 'chlorine resistant', 'removable pads', 'quick-dry'],
    price: [25, 90],
    patterned: true,
  },
  {
    category: 'Sneakers',
    singular: 'Sneakers',
    department: 'Shoes',
    silhouette: 'sneaker',
    audiences: ['Women', 'Men', 'Boys', 'Girls'],
    materials: ['canvas', 'leather', 'mesh', 'suede'],
    styles: ['low-top', 'high-top', 'running', 'slip-on'],
    features: ['cushioned insole', 'rubber outsole', 'lace-up', 'breathable upper', 'non-slip sole'],
    price: [40, 160],
    patterned: false,
  },
  {
    category: 'Boots',
    singular: 'Boots',
    department: 'Shoes',
    silhouette: 'boot',
    audiences: ['Women', 'Men'],
    materials: ['leather', 'suede'],
    styles: ['ankle', 'Chelsea', 'hiking', 'knee-high', 'combat'],
    features: ['side zip', 'lug sole', 'waterproof', 'padded collar', 'block heel'],
    price: [70, 250],
    patterned: false,
  },
  {
    category: 'Sandals',
    singular: 'Sandals',
    department: 'Shoes',
    silhouette: 'sandal',
    audiences: ['Women', 'Men', 'Girls'],
    materials: ['leather', 'suede', 'canvas'],
    styles: ['slide', 'strappy', 'flat', 'platform'],
    features: ['adjustable buckle', 'cushioned footbed', 'open toe', 'lightweight sole'],
    price: [25, 110],
    patterned: false,
  },
  {
    category: 'Heels',
    singular: 'Heels',
    department: 'Shoes',
    silhouette: 'heel',
    audiences: ['Women'],
    materials: ['leather', 'suede', 'satin', 'velvet'],
    styles: ['stiletto', 'block heel', 'kitten heel', 'pointed-toe'],
    features: ['padded insole', 'ankle strap', '3-inch heel', 'non-slip sole'],
    price: [50, 200],
    patterned: false,
  },
  {
    category: 'Hats',
    singular: 'Hat',
    department: 'Accessories',
    silhouette: 'hat',
    audiences: ['Women', 'Men'],
    materials: ['straw', 'wool', 'cotton', 'canvas'],
    styles: ['wide-brim', 'fedora', 'bucket', 'panama'],
    features: ['adjustable inner band', 'packable', 'sun protection', 'grosgrain ribbon'],
    price: [20, 90],
    patterned: false,
  },
  {
    category: 'Baseball Caps',
    singular: 'Cap',
    department: 'Accessories',
    silhouette: 'cap',
    audiences: ['Men', 'Women', 'Boys'],
    materials: ['cotton', 'nylon', 'corduroy'],
    styles: ['six-panel', 'trucker', 'dad cap'],
    features: ['adjustable strap', 'curved brim', 'embroidered logo', 'breathable eyelets'],
    price: [15, 45],
    patterned: false,
  },
  {
    category: 'Scarves',
    singular: 'Scarf',
    department: 'Accessories',
    silhouette: 'scarf',
    audiences: ['Women', 'Men'],
    materials: ['cashmere', 'silk', 'wool', 'cotton'],
    styles: ['long', 'square', 'blanket', 'skinny'],
    features: ['fringed ends', 'soft drape', 'lightweight', 'hand wash'],
    price: [20, 120],
    patterned: true,
  },
  {
    category: 'Handbags',
    singular: 'Handbag',
    department: 'Accessories',
    silhouette: 'handbag',
    audiences: ['Women'],
    materials: ['leather', 'suede', 'canvas', 'straw'],
    styles: ['tote', 'crossbody', 'shoulder', 'clutch'],
    features: ['zip top', 'interior pockets', 'detachable strap', 'magnetic snap'],
    price: [45, 260],
    patterned: false,
  },
  {
    category: 'Backpacks',
    singular: 'Backpack',
    department: 'Accessories',
    silhouette: 'backpack',
    audiences: ['Men', 'Women', 'Boys', 'Girls'],
    materials: ['nylon', 'canvas', 'recycled polyester', 'leather'],
    styles: ['rolltop', 'daypack', 'laptop', 'mini'],
    features: ['padded laptop sleeve', 'water-resistant', 'padded straps', 'side bottle pockets'],
    price: [35, 160],
    patterned: false,
  },
  {
    category: 'Belts',
    singular: 'Belt',
    department: 'Accessories',
    silhouette: 'belt',
    audiences: ['Men', 'Women'],
    materials: ['leather', 'suede', 'canvas'],
    styles: ['dress', 'braided', 'western', 'reversible'],
    features: ['brushed metal buckle', 'five adjustment holes', 'stitched edges'],
    price: [20, 85],
    patterned: false,
  },
  {
    category: 'Sunglasses',
    singular: 'Sunglasses',
    department: 'Accessories',
    silhouette: 'sunglasses',
    audiences: ['Women', 'Men'],
    materials: ['acetate', 'stainless steel'],
    styles: ['aviator', 'round', 'cat-eye', 'wayfarer'],
    features: ['polarized lenses', 'UV400 protection', 'spring hinges', 'hard case included'],
    price: [25, 180],
    patterned: false,
  },
  {
    category: 'Watches',
    singular: 'Watch',
    department: 'Accessories',
    silhouette: 'watch',
    audiences: ['Men', 'Women'],
    materials: ['stainless steel', 'leather'],
    styles: ['minimalist', 'chronograph', 'dive', 'dress'],
    features: ['water-resistant to 50 m', 'sapphire-coated glass', 'quartz movement', 'quick-release strap'],
    price: [60, 400],
    patterned: false,
  },
  {
    category: 'Necklaces',
    singular: 'Necklace',
    department: 'Jewelry',
    silhouette: 'necklace',
    audiences: ['Women', 'Girls'],
    materials: ['sterling silver', 'stainless steel'],
    styles: ['pendant', 'chain', 'layered', 'choker'],
    features: ['lobster clasp', 'hypoallergenic', 'adjustable length', 'gift box included'],
    price: [25, 200],
    patterned: false,
  },
];

export const AUDIENCE_PREFIX: Record<string, string> = {
  Women: "Women's",
  Men: "Men's",
  Girls: "Girls'",
  Boys: "Boys'",
};

/** Nouns the catalog uses in the plural for one product ("boots", "jeans", "sunglasses"). */
export const plural = (noun: string) => /s$/i.test(noun) && !/dress$/i.test(noun);
/** "a" or "an" before a phrase, by its first letter. */
export const an = (phrase: string) => (/^[aeiou]/i.test(phrase) ? `an ${phrase}` : `a ${phrase}`);
/** an(), but nothing before a phrase about a plural `noun`: "an oversized tee", "ankle boots". */
export const withArticle = (phrase: string, noun: string) => (plural(noun) ? phrase : an(phrase));
