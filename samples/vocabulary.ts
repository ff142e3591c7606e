import type { Category } from '../schemas/index.ts';

/** Per-category vocabulary and log-normal price parameters (median e^mu USD). */
export interface CategoryVocabulary {
  readonly category: Category;
  readonly weight: number;
  readonly mu: number;
  readonly sigma: number;
  readonly brands: readonly string[];
  readonly nouns: readonly string[];
  readonly adjectives: readonly string[];
}

export const VOCABULARY: readonly CategoryVocabulary[] = [
  {
    category: 'Electronics',
    weight: 0.22,
    mu: 4.9,
    sigma: 1.0,
    brands: ['Sony', 'Samsung', 'LG', 'Bose', 'JBL', 'Anker', 'TCL', 'Vizio', 'Sennheiser', 'Logitech'],
    nouns: [
      '4K Smart TV',
      'Soundbar',
      'Wireless Headphones',
      'Bluetooth Speaker',
      'Streaming Stick',
      'Webcam',
      'Portable Monitor',
      'Earbuds',
    ],
    adjectives: ['Noise Canceling', 'Ultra HD', 'Compact', 'Pro', 'Wireless', 'Waterproof'],
  },
  {
    category: 'Appliances',
    weight: 0.12,
    mu: 5.3,
    sigma: 0.9,
    brands: ['Ninja', 'KitchenAid', 'Instant Pot', 'Dyson', 'Shark', 'Breville', 'Cuisinart', 'iRobot'],
    nouns: [
      'Air Fryer',
      'Stand Mixer',
      'Pressure Cooker',
      'Cordless Vacuum',
      'Robot Vacuum',
      'Espresso Machine',
      'Blender',
      'Microwave',
    ],
    adjectives: ['6-Quart', 'Digital', 'Stainless Steel', 'Smart', 'Countertop', 'Pet Hair'],
  },
  {
    category: 'Automotive',
    weight: 0.1,
    mu: 3.6,
    sigma: 0.9,
    brands: ['NOCO', 'Michelin', 'Bosch', 'Armor All', 'Chemical Guys', 'Garmin', 'Vantrue', 'Meguiars'],
    nouns: [
      'Jump Starter',
      'Tire Inflator',
      'Wiper Blades',
      'Dash Cam',
      'Car Wash Kit',
      'Floor Mats',
      'Battery Charger',
      'Seat Covers',
    ],
    adjectives: ['Heavy Duty', 'Portable', 'All-Weather', '1080p', 'Lithium', 'Universal'],
  },
  {
    category: 'Tools_and_Home_Improvement',
    weight: 0.14,
    mu: 4.3,
    sigma: 0.9,
    brands: ['DeWalt', 'Milwaukee', 'Makita', 'Ryobi', 'Bosch', 'Craftsman', 'Black+Decker', 'Kobalt'],
    nouns: [
      'Cordless Drill',
      'Impact Driver',
      'Circular Saw',
      'Tool Set',
      'Shop Vac',
      'Work Light',
      'Leaf Blower',
      'Pressure Washer',
    ],
    adjectives: ['20V MAX', 'Brushless', 'Compact', '18V', 'Heavy Duty', 'Cordless'],
  },
  {
    category: 'Toys_and_Games',
    weight: 0.12,
    mu: 3.4,
    sigma: 0.8,
    brands: ['LEGO', 'Hasbro', 'Mattel', 'Nintendo', 'Melissa & Doug', 'Ravensburger', 'Nerf', 'Hot Wheels'],
    nouns: [
      'Building Set',
      'Board Game',
      'Puzzle',
      'Action Figure',
      'Blaster',
      'Track Set',
      'Plush Toy',
      'Card Game',
    ],
    adjectives: ['Deluxe', 'Family', '1000-Piece', 'Collector', 'Classic', 'Ultimate'],
  },
  {
    category: 'Office_Products',
    weight: 0.1,
    mu: 3.3,
    sigma: 0.9,
    brands: ['HP', 'Brother', 'Epson', 'Fellowes', 'Post-it', 'Sharpie', 'Staples', 'Canon'],
    nouns: [
      'Laser Printer',
      'Paper Shredder',
      'Label Maker',
      'Desk Organizer',
      'Sticky Notes',
      'Ink Cartridges',
      'Office Chair',
      'Whiteboard',
    ],
    adjectives: ['Wireless', 'Monochrome', 'Cross-Cut', 'Ergonomic', 'Value Pack', 'All-in-One'],
  },
  {
    category: 'Cell_Phones_and_Accessories',
    weight: 0.12,
    mu: 3.5,
    sigma: 1.2,
    brands: ['Apple', 'Samsung', 'Google', 'Motorola', 'OtterBox', 'Spigen', 'Belkin', 'Anker'],
    nouns: [
      'Smartphone',
      'Phone Case',
      'Wireless Charger',
      'Screen Protector',
      'Power Bank',
      'USB-C Cable',
      'Car Mount',
      'Smartwatch',
    ],
    adjectives: ['Unlocked', 'MagSafe', 'Rugged', 'Fast Charging', '128GB', 'Tempered Glass'],
  },
  {
    category: 'Musical_Instruments',
    weight: 0.08,
    mu: 4.8,
    sigma: 1.0,
    brands: ['Yamaha', 'Fender', 'Casio', 'Roland', 'Shure', 'Gibson', 'Audio-Technica', 'Korg'],
    nouns: [
      'Digital Piano',
      'Electric Guitar',
      'Acoustic Guitar',
      'Microphone',
      'Keyboard',
      'Guitar Amp',
      'Drum Pad',
      'Studio Headphones',
    ],
    adjectives: ['88-Key', 'Beginner', 'Professional', 'USB', 'Portable', 'Vintage'],
  },
];

/** Deal feeds in the shape of the prototype's sources (DealNews category pages). */
export const FEEDS: readonly { name: string; code: string; hint: string }[] = [
  { name: 'dealnews-electronics', code: 'c142', hint: 'Electronics' },
  { name: 'dealnews-computers', code: 'c39', hint: 'Computers' },
  { name: 'dealnews-smart-home', code: 'f1912', hint: 'Smart Home' },
  { name: 'dealnews-automotive', code: 'c238', hint: 'Automotive' },
  { name: 'dealnews-home-garden', code: 'c196', hint: 'Home & Garden' },
];

export const RETAILERS: readonly string[] = [
  'Amazon',
  'Walmart',
  'Best Buy',
  'Target',
  'Home Depot',
  'Lowe’s',
  'Newegg',
  'B&H Photo',
  'eBay',
  'Costco',
];

/** Unicode title decorations seen in real feeds. */
export const UNICODE_DECOR: readonly string[] = [
  '™',
  '®',
  ' – Édition Spéciale',
  ' 🔥',
  ' (Kopfhörer)',
  ' — Café Edition',
  ' №1',
];

/** Kinds of dirt the sample injects, with the quarantine code each must end in (null: valid). */
export const DIRT = [
  { kind: 'missing_price', share: 0.015, expected: 'missing_price' },
  { kind: 'price_in_title_only', share: 0.015, expected: null },
  { kind: 'from_price', share: 0.015, expected: 'from_price' },
  { kind: 'free', share: 0.01, expected: 'non_positive_price' },
  { kind: 'multibuy', share: 0.015, expected: null },
  { kind: 'discount', share: 0.015, expected: 'discount_not_price' },
  { kind: 'trade_in', share: 0.01, expected: 'discount_not_price' },
  { kind: 'store_sale', share: 0.01, expected: 'sale_without_price' },
  { kind: 'zero_price', share: 0.005, expected: 'non_positive_price' },
  { kind: 'negative_price', share: 0.005, expected: 'non_positive_price' },
  { kind: 'absurd_price', share: 0.005, expected: 'implausible_price' },
  { kind: 'unparseable_price', share: 0.005, expected: 'unparseable_price' },
  { kind: 'expired', share: 0.015, expected: 'expired' },
  { kind: 'truncated', share: 0.01, expected: 'missing_field' },
  { kind: 'unicode_title', share: 0.03, expected: null },
  { kind: 'html_heavy', share: 0.05, expected: null },
] as const;
export type DirtKind = (typeof DIRT)[number]['kind'];
