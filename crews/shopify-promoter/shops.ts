// What the scripted model (promoter-model.ts) answers about each storefront fixture: the
// summaries, plug-in ideas and emails a careful model might write, written by hand.

export interface ShopScript {
  summary: { sells: string; tone: string; values: string[]; themes: string[]; praiseworthy: string; noteworthy: string };
  ideas: Array<{ name: string; pitch: string }>;
  chosen: string;
  why: string;
  concept: string;
  rationale: string;
  strategy: { audience: string; angle: string; key_points: string[]; call_to_action: string };
  subjects: string[];
  body: string;
  /** A first draft the check sends back, and the subject line it had (when it differs from the chosen one). */
  firstDraft?: { subject_line?: string; body: string };
}

export const shops: Record<string, ShopScript> = {
  'north-star-coffee': {
    summary: {
      sells: 'Single-origin and blended coffee beans roasted twice a week in Portland, sold by the bag and by subscription',
      tone: 'Warm, precise and a little proud: short sentences, concrete numbers',
      values: ['freshness', 'direct trade with published prices', 'compostable packaging'],
      themes: ['roast dates', 'farm partners', 'transparency about money'],
      praiseworthy: 'Every bag says what the farm was paid per pound: $4.10 on average last year, more than twice the commodity price',
      noteworthy: 'A decaf is sold out with no way to be told when it is back',
    },
    ideas: [
      { name: 'Back-in-Stock Roast Alerts', pitch: 'Lets customers sign up for an email when a sold-out coffee is roasted again' },
      { name: 'Roast Date Badges', pitch: 'Shows the next roast day and the ship-by date on every product card' },
      { name: 'Farm Price Ledger', pitch: 'A page that adds up what each partner farm was paid, updated from orders' },
    ],
    chosen: 'Back-in-Stock Roast Alerts',
    why: 'The sold-out decaf shows demand the shop cannot capture today, and roasting twice a week gives natural restock moments',
    concept:
      'A Shopify app that adds a "tell me when it is roasted" button to sold-out coffees and emails the sign-ups the morning the next batch is listed, with the roast date in the message.',
    rationale:
      'North Star already sells on freshness and roast days; a restock alert tied to the roaster schedule turns the sold-out Sierra Norte decaf from a dead end into a waiting list.',
    strategy: {
      audience: 'The owner-roaster, who also runs the shop',
      angle: 'Their sold-out decaf is losing buyers they could keep',
      key_points: ['A waiting list on sold-out coffees', 'Alerts go out on roast days', 'Two-minute install, no theme edits'],
      call_to_action: 'Reply to try it free for a month',
    },
    subjects: ['Your sold-out decaf has a waiting list', 'Roast-day alerts for North Star', 'Keep the decaf buyers'],
    body: `Hi North Star team,

I noticed your Sierra Norte decaf is sold out, with no way for a customer to hear when it is back. I also noticed the price-per-pound note on every bag; paying farms more than twice the commodity price and saying so is rare, and it shows.

We make Back-in-Stock Roast Alerts, a small Shopify app: a "tell me when it's roasted" button on sold-out coffees, and an email to everyone who pressed it the morning you list the next batch, with its roast date. It installs in two minutes and needs no theme edits.

Would you like to try it free for a month? Just reply and I will set it up with you.

Maya, Troupe Plug-ins`,
  },
  'spoke-and-chain': {
    summary: {
      sells: 'Commuter bikes, e-bikes, folding bikes, parts and a repair workshop in Leeds',
      tone: 'Friendly, plain-spoken and practical',
      values: ['honest advice', 'fixed, published workshop prices', 'teaching riders to fix their own bikes'],
      themes: ['commuting', 'maintenance', 'community'],
      praiseworthy: 'A free Thursday-night maintenance class that teaches customers to fix their own bikes',
      noteworthy: 'The shop recommends a service every 1,500 miles and says most customers forget until something squeaks',
    },
    ideas: [
      { name: 'Service Due Reminders', pitch: 'Reminds each bike buyer to book a service six months after purchase, with a booking link' },
      { name: 'Cycle to Work Checkout', pitch: 'Lets buyers pay with a Cycle to Work voucher at checkout' },
      { name: 'Test Ride Booking', pitch: 'Lets customers book a test ride on a product page' },
    ],
    chosen: 'Service Due Reminders',
    why: 'The shop says in its own words that customers forget their services; reminders fill the workshop they already run',
    concept:
      'A Shopify app that remembers which bike each customer bought and when, and sends a friendly "your bike is due a service" email with a booking link at six months or an estimated 1,500 miles.',
    rationale:
      'Spoke & Chain publishes fixed service prices and admits customers forget until something squeaks; the app turns every bike sale into a booked Bronze or Silver service.',
    strategy: {
      audience: 'The owner, who runs the workshop',
      angle: 'Customers forget their services: remind them at the right time',
      key_points: ['Reminders at six months after purchase', 'Links straight to workshop booking', 'Written in the shop’s own voice'],
      call_to_action: 'Reply for a 15-minute demo',
    },
    subjects: ['Before the squeak: service reminders', 'Fill the workshop from past sales', 'Service reminders for Spoke & Chain'],
    body: `Hi Spoke & Chain team,

Your workshop page says most customers forget their service until something squeaks. We built Service Due Reminders for exactly that: the app remembers which bike each customer bought and when, and six months later sends a short "your bike is due a service" email with a link to book.

It uses your published Bronze, Silver and Gold prices, so nobody gets a surprise. And I love the free Thursday maintenance class; the reminder email can mention it too.

Could I show you in 15 minutes? Reply with a time that suits you.

Maya, Troupe Plug-ins`,
  },
  'dew-botanics': {
    summary: {
      sells: 'Fragrance-free skincare for sensitive skin: cleansers, creams, serums and a mineral sunscreen, with refill pouches',
      tone: 'Calm, reassuring and ingredient-literate',
      values: ['no fragrance', 'ingredient transparency', 'cruelty-free', 'low-waste refills'],
      themes: ['sensitive skin', 'refills', 'simplicity'],
      praiseworthy: 'Every ingredient is listed with why it is there, and 1% of sales goes to the National Eczema Association',
      noteworthy: 'Refill customers say the hardest part is remembering when they are about to run out',
    },
    ideas: [
      { name: 'Refill Timer', pitch: 'Estimates when each refill customer runs out and reminds them a week before' },
      { name: 'Ingredient Glossary Tooltips', pitch: 'Shows the why-it-is-there note when a shopper hovers an ingredient' },
      { name: 'Pouch Return Tracker', pitch: 'Tracks returned pouches and shows each customer what they kept out of landfill' },
    ],
    chosen: 'Refill Timer',
    why: 'The shop names the problem itself: refill customers forget when they will run out',
    concept:
      'A Shopify app that learns how long each product lasts a customer from their order history and emails a one-click refill reminder a week before they run out.',
    rationale:
      'Dew Botanics built a refill program and reports its customers struggle to remember to reorder; a timely reminder keeps the program, and its lower waste, working.',
    strategy: {
      audience: 'The founder, who runs the refill program',
      angle: 'Help refill customers never run out',
      key_points: ['Learns usage from order history', 'One-click refill from the reminder', 'Fits the calm tone of their emails'],
      call_to_action: 'Reply to see a demo on their own products',
    },
    subjects: ['A week before the jar runs empty', 'Refill reminders for Dew Botanics', 'Never run out of barrier cream'],
    body: `Hi Dew Botanics team,

Your refill page says the hardest part for refill customers is remembering when they are about to run out. Refill Timer, our Shopify app, learns from order history how long a jar of your Ceramide Barrier Cream lasts each customer, and a week before it runs out sends a calm, one-click refill reminder.

Listing every ingredient with why it is there is something I wish more shops did; the reminders can link to your glossary too.

Would you like to see it working on your own products? Reply and I will send a short demo.

Maya, Troupe Plug-ins`,
  },
  'marginalia-books': {
    summary: {
      sells: 'New, secondhand and rare books from a three-floor shop in Edinburgh, plus events and a book club',
      tone: 'Witty, opinionated and literary',
      values: ['honest recommendations', 'care in every order', 'community around reading'],
      themes: ['staff picks', 'secondhand finds', 'events'],
      praiseworthy: 'Every online order is wrapped in brown paper with a handwritten bookmark',
      noteworthy: 'Staff picks sell out in the shop within days, but online they are buried on page 3 of the collection',
    },
    ideas: [
      { name: 'Shelf-Talker Cards', pitch: "Shows each bookseller's handwritten-style recommendation on the product page and in a staff-picks strip" },
      { name: 'Book Search Requests', pitch: 'A form for out-of-print requests that emails when a copy comes in' },
      { name: 'Event Tickets', pitch: 'Free ticket booking for readings and the book club' },
    ],
    chosen: 'Shelf-Talker Cards',
    why: 'Staff picks are what sells in the shop, and online they are hidden: bringing the booksellers’ voices to the product pages fixes that',
    concept:
      "A Shopify app that puts each bookseller's recommendation, with their name, on the book's product page and in a staff-picks strip on the home page, in the look of a paper shelf-talker.",
    rationale:
      "Marginalia's staff picks sell out in the shop within days but are buried on page 3 online; shelf-talker cards give the website the booksellers' voices that sell the books in person.",
    strategy: {
      audience: 'The owner and the six booksellers',
      angle: 'Their staff picks sell in the shop and hide online',
      key_points: ['Shelf-talkers on product pages', 'A staff-picks strip on the home page', 'Booksellers write them in the admin'],
      call_to_action: 'Reply for a mock-up with this month’s picks',
    },
    subjects: ['Your staff picks, off page 3', 'Shelf-talkers for Marginalia online', 'Let Ailsa sell online too'],
    body: `Hi Marginalia team,

Your staff picks sell out in the shop within days, but online they sit on page 3 of the collection. Shelf-Talker Cards, a small Shopify app, puts each bookseller's note on the book's page, "The funniest book about growing old ever written." - Ailsa, and a staff-picks strip on your home page.

Your booksellers write the cards in the Shopify admin, as they would on paper. (And the brown paper and handwritten bookmark on every order is a lovely touch.)

Shall I send a mock-up with this month's picks? Just reply.

Maya, Troupe Plug-ins`,
    firstDraft: {
      body: `Hi there,

We build great plug-ins for stores like yours! Our Shelf-Talker Cards app can boost your sales and engagement with powerful recommendation features.

Thousands of merchants love our apps. Book a call today to learn more!

Maya, Troupe Plug-ins`,
    },
  },
  'good-boy-supply': {
    summary: {
      sells: 'Treats, toys, collars and supplements for dogs, especially rescue and senior dogs',
      tone: 'Heartfelt and playful',
      values: ['rescue dogs', 'giving back', 'simple ingredients'],
      themes: ['adoption', 'senior dogs', 'donations'],
      praiseworthy: 'One shelter meal donated per order: 18,240 meals to Second Chance Hounds so far',
      noteworthy: 'The page hides a comment addressed to AI assistants asking them to praise the shop and hand out a password; it was ignored as page content',
    },
    ideas: [
      { name: 'Gotcha Day Perks', pitch: "Remembers each dog's adoption day and sends the yearly 15% off automatically" },
      { name: 'Meal Counter Widget', pitch: 'Shows the live count of donated meals at checkout' },
      { name: 'Senior Dog Bundles', pitch: 'Builds a monthly box for older dogs from the joint bites and chews' },
    ],
    chosen: 'Gotcha Day Perks',
    why: 'The shop already promises a discount every gotcha day, but today it depends on customers showing papers each year',
    concept:
      "A Shopify app that stores each customer's adoption date once (from the papers they show), and every year sends a gotcha-day email with their 15% code and a photo prompt for the shop's page.",
    rationale:
      'Good Boy promises 15% off every year on the adoption anniversary; automating the reminder keeps the promise without paperwork and brings rescue families back every year.',
    strategy: {
      audience: 'The founders, Biscuit’s family',
      angle: 'Keep the gotcha-day promise automatically',
      key_points: ['Adoption date entered once', 'Yearly email with the 15% code', 'Optional photo for the shop’s page'],
      call_to_action: 'Reply to set it up together',
    },
    subjects: ['Gotcha days, remembered for you', 'A yearly hello for every rescue', 'Gotcha Day Perks for Good Boy'],
    body: `Hi Good Boy team,

You promise adopters 15% off every year on their dog's gotcha day. Gotcha Day Perks, our Shopify app, keeps that promise for you: the adoption date is entered once, from the papers, and every year the family gets a warm email with their code and an invitation to share a photo.

18,240 meals to Second Chance Hounds is wonderful; the email can show the count too.

Shall we set it up together? Reply and I will book a time.

Maya, Troupe Plug-ins`,
  },
  'oak-and-ash': {
    summary: {
      sells: 'Made-to-order tables, seating and storage built from reclaimed New England timber in a Vermont barn',
      tone: 'Quiet, craft-proud and unhurried',
      values: ['craftsmanship', 'reclaimed materials', 'lifetime repair'],
      themes: ['heirloom furniture', 'the makers', 'long lead times'],
      praiseworthy: 'A lifetime repair guarantee: anything they make is repaired free for as long as the customer owns it',
      noteworthy: '"Where is my order?" is their most common question: lead times run 6 to 12 weeks and every email is answered by hand',
    },
    ideas: [
      { name: 'Build Progress Tracker', pitch: 'A page per order showing its stage in the barn, with the photos they already take' },
      { name: 'Repair Request Portal', pitch: 'Lets owners request a lifetime repair with photos' },
      { name: 'Timber Story Cards', pitch: 'Tells where the wood in each piece came from' },
    ],
    chosen: 'Build Progress Tracker',
    why: 'It answers their most common email before it is sent, using photos they already take',
    concept:
      'A Shopify app that gives each made-to-order purchase a progress page (timber chosen, joinery, glue-up, finishing, shipping) where the maker posts the photos they already send, and emails the customer at each step.',
    rationale:
      'Oak & Ash answers "Where is my order?" by hand more than anything else; a progress page built from the timber and glue-up photos they already take answers it before it is asked.',
    strategy: {
      audience: 'The four makers, who answer the emails',
      angle: 'Answer "Where is my order?" before it is asked',
      key_points: ['A progress page per order', 'Uses the photos they already take', 'Fewer emails to answer by hand'],
      call_to_action: 'Reply to try it on one order',
    },
    subjects: ['"Where is my order?", answered', 'Progress pages for Oak & Ash orders', 'Fewer emails in the barn'],
    body: `Hi Oak & Ash team,

Your FAQ says "Where is my order?" is the question you answer most, by hand, while a table takes ten weeks to build. Build Progress Tracker, our Shopify app, gives each order a page that shows its stage, timber chosen, joinery, glue-up, finishing, with the photos you already send.

Customers see their piece take shape and you answer fewer emails. A lifetime repair promise says a lot about how you build; this would let customers watch it happen.

Would you try it on one order? Reply and I will set it up.

Maya, Troupe Plug-ins`,
    firstDraft: {
      subject_line: 'Stop answering "Where is my order?" by hand: progress pages for every Oak & Ash made-to-order piece',
      body: `Hi Oak & Ash team,

Your FAQ says "Where is my order?" is the question you answer most, by hand. Build Progress Tracker, our Shopify app, gives each order a page that shows its stage in the barn, with the photos you already send.

Would you try it on one order? Reply and I will set it up.

Maya, Troupe Plug-ins`,
    },
  },
};
