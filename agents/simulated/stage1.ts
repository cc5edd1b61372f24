import type { Handlers } from './handlers';
import { readAttributes, VOCABULARY } from '../../catalog/attributes';
import { an, withArticle } from '../../catalog/vocabulary';
import { dominantColours } from '../../catalog/colour';
import { imageAbsolutePath } from '../../catalog/images';
import { cap } from './rules';

/** Stage 1, simulated: captions from the item and its photo, and the category filter. */
export const stage1Handlers: Pick<Handlers, 'itemCaptioner' | 'categoryFilter'> = {
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
};
