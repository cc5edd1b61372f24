import type { Pattern, Silhouette } from './vocabulary';

/** Simple flat garment drawings on a 256 x 256 canvas; enough for a model (or a person) to tell them apart. */
const SHAPES: Record<Silhouette, string> = {
  tee: '<path d="M88 40 L168 40 L216 74 L194 106 L176 94 L176 220 L80 220 L80 94 L62 106 L40 74 Z"/><path d="M108 40 Q128 60 148 40" fill="none"/>',
  shirt:
    '<path d="M88 36 L168 36 L224 78 L212 198 L188 198 L180 104 L180 226 L76 226 L76 104 L68 198 L44 198 L32 78 Z"/><path d="M128 44 L128 226 M104 36 L128 56 L152 36" fill="none"/>',
  sweater:
    '<path d="M86 38 L170 38 L226 84 L214 204 L190 204 L182 110 L182 222 L74 222 L74 110 L66 204 L42 204 L30 84 Z"/><path d="M74 210 L182 210 M104 38 Q128 58 152 38" fill="none"/>',
  hoodie:
    '<circle cx="128" cy="44" r="30"/><path d="M86 50 L170 50 L226 90 L214 206 L190 206 L182 116 L182 226 L74 226 L74 116 L66 206 L42 206 L30 90 Z"/><path d="M96 170 L160 170 L168 204 L88 204 Z" fill="none"/>',
  jacket:
    '<path d="M86 34 L170 34 L226 80 L214 204 L190 204 L182 108 L182 224 L74 224 L74 108 L66 204 L42 204 L30 80 Z"/><path d="M128 60 L128 224 M100 34 L128 80 L156 34" fill="none"/>',
  coat: '<path d="M86 24 L170 24 L226 72 L214 196 L190 196 L186 104 L194 246 L62 246 L70 104 L66 196 L42 196 L30 72 Z"/><path d="M128 50 L128 246 M98 24 L128 76 L158 24 M70 140 L186 140" fill="none"/>',
  dress:
    '<path d="M100 26 L156 26 L162 82 L150 104 L206 232 L50 232 L106 104 L94 82 Z"/><path d="M104 104 L152 104" fill="none"/>',
  skirt: '<path d="M84 56 L172 56 L208 214 L48 214 Z"/><path d="M84 72 L172 72" fill="none"/>',
  trousers:
    '<path d="M78 28 L178 28 L188 234 L142 234 L128 98 L114 234 L68 234 Z"/><path d="M78 44 L178 44" fill="none"/>',
  shorts:
    '<path d="M72 60 L184 60 L198 160 L138 160 L128 108 L118 160 L58 160 Z"/><path d="M72 76 L184 76" fill="none"/>',
  swimsuit:
    '<path d="M96 30 L110 30 L128 70 L146 30 L160 30 L170 120 L196 210 L150 214 L128 180 L106 214 L60 210 L86 120 Z"/>',
  sneaker:
    '<path d="M26 150 L104 112 L146 134 L206 146 Q234 156 230 182 L26 182 Z"/><rect x="24" y="182" width="208" height="16" rx="6"/><path d="M96 126 L120 146 M110 120 L134 140" fill="none"/>',
  boot: '<path d="M82 34 L142 34 L142 150 L208 166 Q230 176 226 204 L82 204 Z"/><rect x="80" y="204" width="148" height="16" rx="4"/>',
  sandal:
    '<ellipse cx="128" cy="170" rx="100" ry="26"/><path d="M70 170 Q100 110 130 170 M120 168 Q150 112 180 168" fill="none" stroke-width="10"/>',
  heel: '<path d="M30 170 Q60 130 120 150 L210 118 L222 128 L208 176 L196 176 L190 226 L180 226 L182 176 L30 182 Z"/>',
  hat: '<ellipse cx="128" cy="170" rx="112" ry="30"/><path d="M72 168 Q74 80 128 76 Q182 80 184 168 Z"/><path d="M74 146 L182 146" fill="none" stroke-width="8"/>',
  cap: '<path d="M56 160 Q60 70 136 70 Q200 74 204 160 Z"/><path d="M196 150 Q246 152 250 176 L190 176 Z"/>',
  scarf:
    '<path d="M84 26 L140 26 L152 230 L104 230 Z"/><path d="M140 26 L190 40 L176 120 L146 110 Z"/><path d="M104 230 L104 246 M116 230 L116 246 M128 230 L128 246 M140 230 L140 246" fill="none"/>',
  handbag:
    '<path d="M58 102 L198 102 L214 222 L42 222 Z"/><path d="M90 102 Q92 40 128 40 Q164 40 166 102" fill="none" stroke-width="10"/>',
  backpack:
    '<rect x="66" y="48" width="124" height="180" rx="30"/><rect x="86" y="150" width="84" height="56" rx="10"/><path d="M100 48 Q128 18 156 48" fill="none" stroke-width="8"/>',
  belt: '<rect x="16" y="112" width="224" height="34" rx="6"/><rect x="48" y="104" width="40" height="50" rx="4" fill="none" stroke-width="6"/>',
  sunglasses:
    '<circle cx="84" cy="134" r="40"/><circle cx="172" cy="134" r="40"/><path d="M124 130 Q128 118 132 130 M44 124 L14 108 M212 124 L242 108" fill="none" stroke-width="6"/>',
  watch:
    '<rect x="100" y="20" width="56" height="216" rx="10"/><circle cx="128" cy="128" r="50"/><path d="M128 128 L128 96 M128 128 L150 140" fill="none" stroke-width="5"/>',
  necklace:
    '<path d="M50 40 Q128 220 206 40" fill="none" stroke-width="6"/><path d="M128 170 L152 196 L128 232 L104 196 Z"/>',
};

function overlay(pattern: Pattern, accent: string): string {
  switch (pattern) {
    case 'solid':
      return '';
    case 'striped':
      return `<path d="M0 4 H16" stroke="${accent}" stroke-width="4"/>`;
    case 'checked':
      return `<path d="M0 4 H16 M4 0 V16" stroke="${accent}" stroke-width="3" opacity="0.7"/>`;
    case 'polka dot':
      return `<circle cx="8" cy="8" r="3" fill="${accent}"/>`;
    case 'floral':
      return `<g fill="${accent}"><circle cx="8" cy="4" r="2.2"/><circle cx="12" cy="8" r="2.2"/><circle cx="8" cy="12" r="2.2"/><circle cx="4" cy="8" r="2.2"/></g><circle cx="8" cy="8" r="1.6" fill="#f0d34a"/>`;
  }
}

export function garmentSvg(
  silhouette: Silhouette,
  fill: string,
  pattern: Pattern,
  accent: string,
  background: string,
): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
<defs><pattern id="p" width="16" height="16" patternUnits="userSpaceOnUse"><rect width="16" height="16" fill="${fill}"/>${overlay(pattern, accent)}</pattern></defs>
<rect width="256" height="256" fill="${background}"/>
<g fill="url(#p)" stroke="#2a2a2a" stroke-width="3" stroke-linejoin="round">${SHAPES[silhouette]}</g>
</svg>`;
}
