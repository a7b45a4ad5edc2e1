"""A local prompt classifier: category and difficulty, in a few microseconds.

A weighted lexicon, not a learned model: it ships with the code (nothing to download), runs on
the request path of the auto router (gateway/auto_router.py) and in the rankings' category job,
and its decisions can be read and fixed by hand. Words and short phrases vote for categories;
the category with the most weight wins, and a prompt that votes for nothing in particular is
general chat. Accuracy on the labelled set in tests/auto_router/prompts.tsv is printed by
`bench/classifier.py`.
"""

import re
from dataclasses import dataclass

CATEGORIES = ("programming", "roleplay", "creative_writing", "translation", "finance", "legal",
              "health", "science", "marketing", "general_chat")
DIFFICULTIES = ("easy", "medium", "hard")
# Only the start of a long prompt is read: the topic is set early, and the cost stays flat
# (about 1 µs per word read). The length still counts for the difficulty.
MAX_CHARS = 1500
CHARS_PER_WORD = 6
MIN_SCORE = 1.5  # below this, nothing in particular: general chat

# word -> weight, per category. Stems end with "*" (prefix match on the word).
LEXICON: dict[str, dict[str, float]] = {
    "programming": {
        "python": 2, "javascript": 2, "typescript": 2, "java": 2, "rust": 1.5, "golang": 2,
        "go": 0.3, "c++": 2, "sql": 2, "bash": 2, "regex": 2, "api": 1.5, "rest": 0.5,
        "function": 1.5, "class": 0.8, "method": 0.7, "variable": 1.5, "compile*": 2,
        "debug*": 2, "bug": 1.5, "error": 0.8, "exception": 1.5, "stack": 0.8, "code": 2,
        "coding": 2, "script": 1.5, "refactor*": 2.5, "algorithm*": 2, "complexity": 1,
        "git": 2.5, "github": 2, "docker": 2.5, "container": 1, "kubernetes": 2.5, "pod": 1,
        "react": 2, "django": 2.5, "flask": 2, "node": 1, "npm": 2, "pip": 1.5, "cmake": 2.5,
        "linked": 1, "array": 1.5, "struct": 2, "pointer*": 2, "mutex": 2.5, "semaphore": 2.5,
        "thread*": 1, "async": 2, "await": 2, "callback": 1.5, "query": 1, "queryset": 2.5,
        "database": 1.5, "unit": 0.5, "tests": 1, "pytest": 3, "test": 0.5, "deploy*": 1,
        "server": 1, "frontend": 2, "backend": 2, "html": 2, "css": 2, "json": 1.5,
        "pandas": 2.5, "numpy": 2.5, "library": 0.5, "compiler": 2, "runtime": 1.5,
        "typeerror": 3, "undefined": 1.5, "null": 1, "implement*": 1.5, "lru": 2, "cache": 1,
        "openssl": 2, "paginate": 2, "endpoint": 1.5, "workflow": 0.5, "repository": 1.5,
        "program": 1.5, "programming": 2, "software": 1.5, "dependency": 1.5, "injection": 1,
        "crashloopbackoff": 3, "rebase": 3, "merge": 0.8, "ipv4": 1.5, "loop*": 1, "parse*": 1,
        "syntax": 2, "fibonacci": 1.5, "memoization": 2.5, "quicksort": 2.5, "sort*": 0.5,
        "linux": 1.5, "terminal": 1.5, "command": 0.5, "shell": 1.5, "kotlin": 2, "swift": 1,
        "php": 2, "ruby": 1, "haskell": 2, "scala": 1.5, "c#": 2, "dotnet": 2, ".net": 2,
        "microservice*": 2, "auth*": 0.5, "oauth": 1.5, "webhook": 2, "framework": 1,
    },
    "roleplay": {
        "roleplay": 4, "role-play": 4, "rp": 3, "character": 2, "pretend": 2.5, "act": 1,
        "scene": 1.5, "persona": 2, "play": 1, "you're": 1, "knight": 1.5, "pirate": 1.5,
        "vampire": 1.5, "dungeon": 2, "d&d": 3, "campaign": 0.5, "tavern": 2, "innkeeper": 2,
        "wizard": 1, "elf": 1.5, "orcs": 1.5, "dragon": 1, "ghost": 1, "detective": 1,
        "suspect": 1, "butler": 1.5, "captain": 1, "interrogate": 1.5, "in-character": 3,
        "girlfriend": 1.5, "boyfriend": 1.5, "ranger": 1, "sergeant": 1.5, "recruit": 1,
        "ambassador": 1, "barista": 1, "fortune": 1, "teller": 1, "greet": 1, "speak": 0.5,
        "glares": 2, "draws": 1, "sword": 1.5, "walks": 1, "sits": 1, "hobbit": 1.5,
        "gandalf": 1.5, "sherlock": 1.5, "interactive": 1,
    },
    "creative_writing": {
        "story": 2.5, "stories": 2.5, "poem": 3, "poems": 3, "poetry": 3, "poetic": 2.5,
        "sonnet": 3.5, "haiku": 3.5, "limerick": 3.5, "lyrics": 3, "song": 1.5, "verse": 2.5,
        "rap": 1.5, "novel": 2.5, "fiction": 3, "plot": 2.5, "twist*": 1.5, "chapter": 2,
        "screenplay": 3, "villain": 2, "backstory": 2, "protagonist": 2.5, "prose": 2.5,
        "fairy": 2, "tale": 2, "bedtime": 2, "world-building": 3, "worldbuilding": 3,
        "narrative": 2, "creative": 1.5, "compose": 1.5, "write": 0.6, "rewrite": 0.5,
        "dialogue": 1.5, "epic": 1.5, "horror": 2, "mystery": 1.5, "fantasy": 1.5,
        "steampunk": 2, "noir": 2, "rhyme": 2, "stanza": 3, "metaphor": 2, "opening": 1,
        "paragraph": 0.5, "vivid": 1.5, "describe": 0.5, "premise": 2, "scifi": 2,
        "brainstorm": 0.8, "continue": 0.8, "imagery": 2, "flash": 1,
    },
    "translation": {
        "translate": 4, "translation": 4, "translating": 4, "translated": 3, "traduce": 4,
        "traduis": 4, "traducir": 4, "übersetze": 4, "übersetzen": 4, "localize": 3,
        "localise": 3, "spanish": 2, "french": 2, "german": 2, "japanese": 2, "chinese": 2,
        "korean": 2, "italian": 2, "portuguese": 2, "russian": 2, "arabic": 2, "hindi": 2,
        "dutch": 2, "polish": 1.5, "english": 1.5, "mandarin": 2, "language": 1,
        "languages": 1.5, "idiom": 1.5, "say": 0.8, "word": 1, "mean": 0.8,
        "transliteration": 3, "inglés": 3, "anglais": 3, "englische": 3, "into": 0.5,
    },
    "finance": {
        "invest*": 2.5, "stock*": 2, "shares": 1.5, "bond*": 1.5, "portfolio": 2.5,
        "dividend*": 2.5, "etf": 3, "etfs": 3, "mutual": 1.5, "fund*": 1.5, "ira": 3,
        "roth": 3, "401k": 3, "retirement": 2, "mortgage": 2.5, "refinance": 3, "loan*": 2,
        "interest": 1.5, "compound": 1, "inflation": 2.5, "budget": 2, "salary": 1.5,
        "savings": 2, "tax*": 1.5, "capital": 1.5, "gains": 1, "crypto*": 2.5, "bitcoin": 2.5,
        "trading": 2, "options": 0.8, "calls": 0.5, "puts": 1.5, "premium": 0.5,
        "ebitda": 3, "valuation": 2, "p/e": 3, "price-to-earnings": 3, "earnings": 2,
        "balance": 1, "sheet": 0.5, "income": 1.5, "statement": 0.5, "cash": 1.5,
        "flows": 1, "npv": 3, "present": 0.3, "value": 0.5, "credit": 1.5, "score*": 0.5,
        "debt": 2, "bank*": 1.5, "federal": 1, "reserve": 1, "rates": 1.5, "finance": 3,
        "financial": 3, "money": 1.5, "dollar-cost": 3, "averaging": 1, "lump-sum": 2.5,
        "diversification": 2.5, "allocate": 1, "high-yield": 2.5, "deposit": 0.5,
        "payment": 1, "emergency fund": 2.5, "accounting": 2.5, "revenue": 2, "profit": 2,
    },
    "legal": {
        "legal": 3, "legally": 3, "law": 2.5, "laws": 2.5, "lawyer": 3, "attorney": 3,
        "sue": 3, "sued": 3, "lawsuit": 3, "court": 2.5, "contract": 2, "clause": 2.5,
        "agreement": 1.5, "landlord": 2, "tenant": 2.5, "lease": 2, "rights": 2,
        "liable": 3, "liability": 2.5, "divorce": 2.5, "custody": 2.5, "will": 0.3,
        "trust": 0.8, "estate": 1, "copyright": 3, "trademark": 3, "patent*": 3,
        "infringement": 3, "fair use": 3, "gdpr": 3, "compliance": 2, "regulation*": 2,
        "statute": 3, "limitations": 0.5, "misdemeanor": 3, "felony": 3, "criminal": 2,
        "deposition": 3, "witness": 2, "non-compete": 3, "non-disclosure": 3, "nda": 3,
        "cease": 2.5, "desist": 2.5, "verbal": 0.5, "binding": 2, "breach": 2.5,
        "force majeure": 3, "labor": 1.5, "overtime": 1.5, "employer": 1, "enforced": 2,
        "jurisdiction": 3, "legislation": 3, "illegal": 3, "consent": 1, "security deposit": 1,
        "file": 0.3, "ticket": 0.5, "register": 0.5, "terms": 1, "privacy policy": 2,
    },
    "health": {
        "symptom*": 3, "doctor": 2.5, "medical": 2.5, "medicine": 2.5, "medication": 2.5,
        "disease": 2.5, "diabetes": 3, "cancer*": 2.5, "heart": 1.5, "attack": 0.5,
        "blood": 2, "pressure": 0.5, "cholesterol": 3, "statins": 3, "ibuprofen": 3,
        "acetaminophen": 3, "antibiotics": 3, "vaccine*": 2.5, "immune": 2, "fever": 3,
        "headache": 3, "pain": 2, "injury": 2, "sprained": 3, "ankle": 2, "surgery": 3,
        "diet": 2, "keto": 2.5, "fasting": 2.5, "protein": 1.5, "calories": 2,
        "weight": 1.5, "workout": 2.5, "exercise*": 2, "exercising": 2, "sleep": 1.5,
        "anxiety": 2.5, "depression": 2.5, "panic": 2, "therapy": 1.5, "mental": 2,
        "anemia": 3, "iron": 1, "mole": 2, "skin": 1.5, "flu": 3, "cold": 1, "health": 3,
        "healthy": 2.5, "nutrition": 2.5, "stretches": 2.5, "back": 0.5, "pregnan*": 3,
        "side effects": 3, "dose": 2.5, "dosage": 3, "emergency room": 3, "hospital": 2.5,
        "vision": 1, "blurry": 2, "teenager": 0.5, "muscle": 1.5, "alcohol": 1,
        "systolic": 3, "diastolic": 3, "rash": 3, "allergy": 3, "allergies": 3,
    },
    "science": {
        "physics": 3, "chemistry": 3, "biology": 3, "scientific": 2.5, "science": 2,
        "photosynthesis": 3, "quantum": 3, "entanglement": 3, "black": 0.5, "holes": 1.5,
        "evolution": 2.5, "natural selection": 3, "mitosis": 3, "meiosis": 3, "dna": 3,
        "rna": 3, "gene": 2.5, "crispr": 3, "chemical": 2.5, "equation": 2.5, "atoms": 3,
        "atom": 3, "molecule*": 3, "bond*": 0.8, "ionic": 3, "covalent": 3, "electron*": 3,
        "energy": 1.5, "relativity": 3, "einstein": 2.5, "speed": 1, "light": 1.5,
        "gravity": 3, "plate": 1, "tectonics": 3, "earthquakes": 2.5, "entropy": 3,
        "thermodynamics": 3, "neurons": 3, "brain": 1.5, "big bang": 3, "universe": 2.5,
        "experiment": 2, "particles": 3, "solve": 2, "prove": 2.5, "proof": 2.5,
        "theorem": 3, "integral": 3, "derivative": 3, "calculus": 3, "algebra": 3,
        "irrational": 2.5, "square": 1, "root": 1, "x^2": 3, "compute": 1, "math*": 3,
        "motor": 1, "physically": 2, "seasons": 1.5, "planet*": 2, "sky": 1, "cell*": 1.5,
        "protein synthesis": 3, "hypothesis": 2, "theory": 1.5, "orbit": 2.5, "velocity": 3,
        "acceleration": 3, "magnetic": 2.5, "wavelength": 3, "climate": 1.5,
    },
    "marketing": {
        "marketing": 4, "seo": 4, "brand": 3, "branding": 3, "rebrand": 3, "campaign": 2.5,
        "ad": 2.5, "ads": 3, "advert*": 3, "caption": 3, "instagram": 2.5, "facebook": 2,
        "linkedin": 2, "tiktok": 2.5, "social media": 3, "influencer*": 3, "viral": 2,
        "audience": 2, "persona*": 1, "conversion": 2.5, "landing page": 3, "newsletter": 2.5,
        "subscribers": 2, "email subject": 3, "subject lines": 3, "tagline*": 3.5,
        "slogan": 3.5, "copy": 1.5, "copywriting": 3.5, "press release": 3, "launch": 1.5,
        "go-to-market": 3.5, "customers": 1.5, "customer": 1.5, "retention": 2, "leads": 2.5,
        "lead": 1, "generation": 0.5, "kpis": 2.5, "kpi": 2.5, "product description": 2.5,
        "sell": 1.5, "sales": 2, "promotion": 2.5, "promo": 2.5, "sale": 1.5, "offer": 1,
        "outreach": 2.5, "crm": 1.5, "competitors": 2, "position": 1, "awareness": 2.5,
        "engagement": 2, "content calendar": 3, "content marketing": 3, "etsy": 2,
        "b2b": 2.5, "saas": 1.5, "startup": 1, "growth": 1, "announc*": 1.5, "post": 0.8,
    },
    "general_chat": {
        "hi": 1.5, "hello": 1.5, "hey": 1.5, "thanks": 1.5, "thank": 0.8, "morning": 1,
        "favorite": 1.5, "favourite": 1.5, "joke": 2, "bored": 2, "weekend": 1.5,
        "recommend": 1, "gift": 1.5, "birthday": 1.5, "party": 1, "puppy": 1.5,
        "friends": 1, "fun": 1, "chat": 1.5, "dinner": 1.5, "cook": 1.5, "recipe": 1.5,
        "vacation": 1.5, "travel": 1, "trip": 0.5, "weather": 1.5, "you": 0.3,
        "interesting": 1, "better": 0.3, "cats": 1, "dogs": 1, "pizza": 1, "coffee": 0.5,
        "latte": 1.5, "cappuccino": 1.5, "anniversary": 1, "relaxing": 1.5, "sunday": 1,
    },
}

# Broad domain vocabulary, one weight per list: the long tail of each field.
VOCABULARY: dict[str, tuple[float, str]] = {
    "programming": (2, "app apps bytes boolean boot branch build buffer char cli client clojure "
                    "closure commit commits compile config configure connection cors cpu crash "
                    "csv daemon dataframe debugger deployment dev developer devops dockerfile "
                    "elixir enum eslint express fastapi fork frontend gcc gradle graphql hash "
                    "heap http https ide index indexes int integer interface iterator jar jvm "
                    "kernel lambda lint linter localhost makefile malloc maven memory merge "
                    "middleware module mongodb mysql nginx nullpointerexception oop orm package "
                    "packages postgres postgresql pr pull recursion redis regexp repo rspec "
                    "schema sdk segfault segmentation serialize singleton spring sqlite ssh "
                    "stacktrace stdout string strings subprocess svelte targets terraform "
                    "tuple typescript ubuntu uint url vim volatile vue webpack websocket xml "
                    "yaml 404 500 localhost:8000 binary stdin exe dll npm yarn llm prompt "
                    "tokenizer dataset tensor pytorch tensorflow keras gpu cuda vscode"),
    "roleplay": (2, "rp roleplaying character's npc quest adventurer tavern-keeper "
                 "headmistress blacksmith shopkeeper saloon duel cowboy starship "
                 "officer queen king princess prince mage sorcerer warlock paladin rogue "
                 "bard guild kingdom academy sheriff outlaw samurai ninja mercenary "
                 "bounty villainess heroine hero mansion haunted teasing *smiles* *laughs* "
                 "*nods* *sighs* waifu companion"),
    "creative_writing": (2, "ballad monologue prologue epilogue saga rhyme rhymes rhyming "
                         "poet poets storyline storytelling thriller romance romantic comedy "
                         "sitcom script sketch fable myth legend allegory anthology "
                         "couplet ode elegy eulogy acrostic lyric lyrical verses characters "
                         "setting plotline manuscript draft chapters novella memoir "
                         "writer writing author"),
    "translation": (2, "translator interpreter subtitles subtitle swedish norwegian danish "
                    "finnish greek turkish thai vietnamese indonesian hebrew persian farsi "
                    "urdu bengali swahili ukrainian czech hungarian romanian tagalog "
                    "cantonese latin esperanto traduci traduzir tradução traducción "
                    "inglese englisch ingles français español deutsch italiano "
                    "schadenfreude phrase phrases pronounce pronunciation"),
    "finance": (2, "retire retiring retirement pension annuity broker brokerage "
                "expense ratio yield yields equity equities asset assets liabilities "
                "hedge forex currency currencies exchange lease leasing insurance premium "
                "capitalization cap valuation dcf irr roi apr apy interest-only escrow "
                "down-payment downpayment mortgage lender lending borrow borrowing "
                "invoice payroll fiscal quarter earnings stockholder shareholder ipo "
                "gold silver commodities recession economy economic economics gdp "
                "wealth rich millionaire afford affordable spend spending save saving "
                "paycheck 401(k) hsa fico checking overdraft"),
    "legal": (2, "law-firm lawyers attorneys judge jury verdict sentence sentencing plea "
              "prosecutor prosecution defendant plaintiff litigation arbitration mediation "
              "settlement damages negligence tort fraud defamation libel slander "
              "police arrest arrested warrant search seizure probation parole bail "
              "constitution constitutional amendment llc incorporate incorporation "
              "sole proprietorship partnership bylaws notary affidavit power-of-attorney "
              "guardianship probate inheritance executor testament eviction evict "
              "discrimination harassment wrongful termination fired severance "
              "immigration visa citizenship asylum permit permits licensing license "
              "hipaa ccpa regulator regulatory legality lawful unlawful penalty "
              "penalties fine fines small-claims claims court's courts legal-advice"),
    "health": (2, "dizzy dizziness nausea vomiting diarrhea insomnia migraine fatigue tired "
               "cough sore throat infection virus bacteria bacterial viral inflammation "
               "arthritis asthma allergy allergic adhd autism diagnosis diagnosed "
               "treatment treat therapy therapist psychiatrist physician nurse clinic "
               "prescription pill pills tablet tablets supplement supplements vitamin "
               "vitamins deficiency hydration hydrated water-intake knee knees hip "
               "shoulder spine joint joints bone bones fracture chest stomach liver "
               "kidney lungs thyroid hormone hormones menstrual period pregnancy "
               "pregnant fertility baby toddler newborn sunburn acne eczema wound "
               "stitches bleeding bruise concussion stroke seizure dementia "
               "alzheimer's wellbeing well-being meditation stress burnout cardio "
               "gym fitness hurts ache aches aching sick illness"),
    "science": (2, "dark matter galaxy galaxies star stars fusion fission nuclear "
                "radioactive radiation half-life isotope isotopes carbon-14 decay "
                "mitochondria organism organisms species ecosystem photosynthesis "
                "bacteria-cell enzyme enzymes protein-folding genome genetics genetic "
                "hydrogen oxygen nitrogen helium molecule compound reaction reactions "
                "acid acids base ph density buoyancy float floats viscosity pressure-volume "
                "temperature kelvin celsius newton newton's momentum force forces mass "
                "friction inertia optics lens refraction diffraction spectrum "
                "ultraviolet infrared photon photons wave waves frequency oscillation "
                "prime primes infinitely infinite number theory geometry trigonometry "
                "pythagorean sin cos tan logarithm exponent exponential probability "
                "statistics statistical variance matrix matrices vector vectors "
                "eigenvalue calculate formula formulas clinical trials trial peer-reviewed "
                "research researchers laboratory lab telescope astronomy astrophysics "
                "cosmology geology volcano volcanoes fossil fossils dinosaurs"),
    "marketing": (2, "hashtag hashtags headline headlines slogans reviews review "
                  "funnel funnels roi cac ltv churn referral referrals affiliate "
                  "affiliates podcast podcasts youtube channel audience's followers "
                  "following reach impressions clicks ctr cpc cpm adwords sem "
                  "ppc retargeting remarketing promotional discount coupon giveaway "
                  "ambassador-program pr publicity storytelling-brand messaging "
                  "positioning value-proposition usp pitch deck product-hunt launch "
                  "marketplace listing shopify amazon storefront merch packaging "
                  "mailchimp open-rate unsubscribe cta call-to-action persona "
                  "demographic demographics segment segmentation market-research"),
}

# Phrases that decide more than any one word (checked on the lowercased text).
PHRASES: dict[str, tuple[tuple[str, float], ...]] = {
    "roleplay": (("stay in character", 5), ("don't break character", 5), ("you are a", 1.5),
                 ("you are my", 2), ("act as", 2), ("play the character", 4),
                 ("pretend to be", 3), ("pretend you are", 3), ("let's play", 2),
                 ("continue the scene", 4), ("continue our roleplay", 5), ("i am the", 1.5),
                 ("i'm the", 1.5), ("roleplay as", 4), ("play my", 2), ("be a", 1)),
    "translation": (("how do you say", 4), ("how would you say", 4), ("what does", 0.5),
                    ("word for", 3), ("in english", 1.5), ("into english", 3)),
    "creative_writing": (("write a story", 4), ("short story", 4), ("write a poem", 4),
                         ("once upon a time", 4), ("in the style of", 2)),
    "programming": (("```", 3), ("def ", 2.5), ("=>", 1.5), ("();", 2.5), ("select ", 1),
                    ("group by", 2.5), ("in place", 1), ("exit code", 2), ("exits", 1)),
    "science": (("how does", 0.5), ("why is the", 0.5), ("solve for", 3), ("what causes", 0.8)),
    "finance": (("interest rate", 3), ("net present value", 4), ("index fund", 4),
                ("emergency fund", 3)),
    "legal": (("my rights", 3), ("is it legal", 4), ("legally binding", 4), ("who is liable", 4)),
    "health": (("should i see a doctor", 4), ("is it safe to take", 4), ("warning signs", 1.5)),
    "marketing": (("target audience", 4), ("conversion rate", 4), ("ad copy", 4),
                  ("buyer personas", 4)),
}

HARD_CUES = ("prove", "derive", "optimi", "architecture", "design", "step by step",
             "complexity", "thread-safe", "concurren", "distributed", "scalab", "trade-off",
             "tradeoff", "rigorous", "edge case", "benchmark", "analy", "compare", "strategy",
             "implement", "refactor", "debug", "worst case", "integral", "theorem")
WORD_RE = re.compile(r"[\w'+#./^&-]+")


@dataclass(frozen=True)
class Classification:
    category: str
    difficulty: str
    scores: tuple[tuple[str, float], ...] = ()


def _build() -> tuple[dict[str, list[tuple[str, float]]], list[tuple[str, str, float]],
                      list[tuple[str, str, float]]]:
    words: dict[str, list[tuple[str, float]]] = {}
    stems: list[tuple[str, str, float]] = []
    phrases: list[tuple[str, str, float]] = []
    for category, entries in LEXICON.items():
        for term, weight in entries.items():
            if " " in term:
                phrases.append((term, category, weight))
            elif term.endswith("*"):
                stems.append((term[:-1], category, weight))
            else:
                words.setdefault(term, []).append((category, weight))
    for category, (weight, text) in VOCABULARY.items():
        for term in text.split():
            term = term.replace("-", " ") if "-" in term and category != "programming" \
                else term
            if " " in term:
                phrases.append((term, category, weight))
            elif not any(c == category for c, _ in words.get(term, ())):
                words.setdefault(term, []).append((category, weight))
    for category, items in PHRASES.items():
        phrases.extend((phrase, category, weight) for phrase, weight in items)
    return words, stems, phrases


_WORDS, _STEMS, _PHRASES = _build()
# Phrases indexed by their first word: only those whose first word occurs are looked for.
# (Symbols such as "```" or "();" have no word; they are always looked for.)
_PHRASES_BY_WORD: dict[str, list[tuple[str, str, float]]] = {}
_ALWAYS: list[tuple[str, str, float]] = []
for _item in _PHRASES:
    _first = WORD_RE.findall(_item[0])
    if _first and _first[0].isalnum():
        _PHRASES_BY_WORD.setdefault(_first[0], []).append(_item)
    else:
        _ALWAYS.append(_item)
_STEM_CACHE: dict[str, list[tuple[str, float]]] = {}


def _votes(word: str) -> list[tuple[str, float]]:
    found = _WORDS.get(word)
    if found is not None:
        return found
    cached = _STEM_CACHE.get(word)
    if cached is None:
        cached = [(c, w) for stem, c, w in _STEMS if word.startswith(stem)]
        if len(_STEM_CACHE) < 50_000:
            _STEM_CACHE[word] = cached
    return cached


def difficulty(text: str, words: int) -> str:
    cues = sum(1 for cue in HARD_CUES if cue in text)
    if words > 180 or cues >= 2 or (cues and words > 40) or text.count("```") >= 2:
        return "hard"
    if words <= 12 and not cues:
        return "easy"
    return "medium"


def classify(text: str) -> Classification:
    """The category and difficulty of a prompt (its user turns, most recent last)."""
    lowered = text[:MAX_CHARS].lower()
    rest = max(0, len(text) - MAX_CHARS)
    scores = dict.fromkeys(CATEGORIES, 0.0)
    tokens = WORD_RE.findall(lowered)
    for raw in tokens:
        word = raw.strip(".'-/&")
        for category, weight in _votes(word) or _votes(raw):
            scores[category] += weight
    seen = set(tokens)
    for phrase, category, weight in _ALWAYS + [
            item for word in seen & _PHRASES_BY_WORD.keys() for item in _PHRASES_BY_WORD[word]]:
        if phrase in lowered:
            scores[category] += weight
    # Roleplay narration: *walks in* style actions.
    if lowered.count("*") >= 2:
        scores["roleplay"] += 3
    best = max(CATEGORIES, key=lambda c: (scores[c], c == "general_chat"))
    if best != "general_chat" and scores[best] < MIN_SCORE:
        best = "general_chat"
    ranked = tuple(sorted(((c, s) for c, s in scores.items() if s), key=lambda x: -x[1]))
    words = len(tokens) + rest // CHARS_PER_WORD
    return Classification(best, difficulty(lowered, words), ranked)


def prompt_text(messages: object) -> str:
    """The text the classifier reads: the last user turn, then the system prompt."""
    if not isinstance(messages, list):
        return ""
    user = system = ""
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content
                               if isinstance(p, dict) and isinstance(p.get("text"), str))
        if not isinstance(content, str):
            continue
        if message.get("role") == "user":
            user = content
        elif message.get("role") in ("system", "developer") and not system:
            system = content
    return user + ("\n" + system if system else "")
