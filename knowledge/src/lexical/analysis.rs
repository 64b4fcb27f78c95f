//! How text becomes terms, for Portuguese and English alike: folded (lower case, no
//! accents), split into words, WhatsApp abbreviations expanded ("vcs", "qnto", "hj"),
//! stop words and greetings dropped, and each word stemmed by Snowball.
//!
//! A knowledge text is stemmed in its own language (the one whose stop words it uses more).
//! A question is stemmed in both, because customers switch language: each of its words is
//! a [`QueryWord`] whose forms are tried against the index and the best one found counts.

use super::lexicon;
use crate::embed::fold;
use rust_stemmers::{Algorithm, Stemmer};
use std::sync::LazyLock;

static PORTUGUESE: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Portuguese));
static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Folded Portuguese stop words, with the chat fillers that carry no question ("kkk", "rs").
const PT_STOP: &[&str] = &[
    "a",
    "ao",
    "aos",
    "as",
    "ate",
    "com",
    "como",
    "da",
    "das",
    "de",
    "do",
    "dos",
    "e",
    "ela",
    "elas",
    "ele",
    "eles",
    "em",
    "entre",
    "era",
    "essa",
    "esse",
    "esta",
    "estao",
    "estou",
    "este",
    "eu",
    "foi",
    "ha",
    "isso",
    "isto",
    "ja",
    "la",
    "lhe",
    "mais",
    "mas",
    "me",
    "mesmo",
    "meu",
    "minha",
    "meus",
    "minhas",
    "na",
    "nas",
    "nem",
    "no",
    "nos",
    "nossa",
    "nosso",
    "num",
    "numa",
    "o",
    "os",
    "ou",
    "para",
    "pela",
    "pelas",
    "pelo",
    "pelos",
    "por",
    "pra",
    "pras",
    "pro",
    "pros",
    "qual",
    "quais",
    "que",
    "quem",
    "se",
    "sem",
    "ser",
    "seu",
    "sua",
    "seus",
    "suas",
    "sao",
    "so",
    "tambem",
    "te",
    "tem",
    "tenho",
    "tenha",
    "ter",
    "um",
    "uma",
    "umas",
    "uns",
    "voce",
    "voces",
    "vos",
    "posso",
    "pode",
    "podem",
    "podes",
    "oi",
    "ola",
    "ai",
    "aqui",
    "ali",
    "nao",
    "sim",
    "sobre",
    "gostaria",
    "queria",
    "quero",
    "saber",
    "favor",
    "obrigado",
    "obrigada",
    "tudo",
    "bem",
    "kkk",
    "kkkk",
    "kk",
    "rs",
    "rsrs",
    "ne",
    "entao",
    "ok",
    "algum",
    "alguma",
    "alguns",
    "algumas",
    "vai",
    "vou",
    "vao",
    "consigo",
    "consegue",
    "dar",
    "fazer",
    "faz",
    "fazem",
    "ta",
    "to",
    "tou",
    "estar",
    "sei",
    "dizer",
    "diz",
    "informar",
    "informacao",
    "informacoes",
    "duvida",
    "pergunta",
    "moco",
    "moca",
    "amigo",
    "amiga",
    "gente",
    "opa",
    "ei",
    "hein",
    "cara",
    "tipo",
    "coisa",
    "agora",
    "ainda",
    "cada",
    "outro",
    "outra",
    "eh",
    "sera",
    "seria",
    "vez",
    "tbm",
    "tb",
    "quiser",
    "fizer",
    "puder",
    "preciso",
    "precisa",
    "precisaria",
];

/// English stop words.
const EN_STOP: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "did", "do", "does", "for", "from", "get", "got", "had", "has", "have", "he", "her",
    "here", "hi", "hello", "hey", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just",
    "let", "like", "me", "my", "no", "not", "of", "on", "or", "our", "please", "she", "should",
    "so", "some", "thanks", "thank", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "to", "us", "was", "we", "were", "what", "which", "who", "whom",
    "why", "will", "with", "would", "yes", "you", "your", "want", "know", "need", "tell", "guys",
    "there's", "i'm", "im", "ok", "okay", "also", "still", "one", "gets", "guy", "when",
];

/// WhatsApp spellings of Portuguese words, folded.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("vc", "voce"),
    ("vcs", "voces"),
    ("q", "que"),
    ("oq", "que"),
    ("qto", "quanto"),
    ("qnto", "quanto"),
    ("qt", "quanto"),
    ("qtos", "quantos"),
    ("qdo", "quando"),
    ("qnd", "quando"),
    ("pq", "porque"),
    ("hj", "hoje"),
    ("amn", "amanha"),
    ("mto", "muito"),
    ("mt", "muito"),
    ("mta", "muita"),
    ("msm", "mesmo"),
    ("cmg", "comigo"),
    ("td", "tudo"),
    ("obg", "obrigado"),
    ("pfv", "favor"),
    ("pf", "favor"),
    ("blz", "beleza"),
    ("add", "adicionar"),
    ("end", "endereco"),
    ("tel", "telefone"),
    ("zap", "whatsapp"),
    ("wpp", "whatsapp"),
    ("whats", "whatsapp"),
    ("sab", "sabado"),
    ("dom", "domingo"),
    ("seg", "segunda"),
    ("fds", "fim-de-semana"),
    ("n", "nao"),
    ("ñ", "nao"),
];

/// The language a text is stemmed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Portuguese (the default: the product's owners write in it).
    Portuguese,
    /// English.
    English,
}

impl Language {
    /// The language whose stop words `text` uses more; Portuguese on a tie.
    pub fn detect(text: &str) -> Self {
        let (mut pt, mut en) = (0usize, 0usize);
        for w in words(&fold(text)) {
            pt += usize::from(PT_STOP.contains(&w));
            en += usize::from(EN_STOP.contains(&w));
        }
        if en > pt {
            Self::English
        } else {
            Self::Portuguese
        }
    }

    /// `word` (folded) stemmed in this language.
    pub fn stem(self, word: &str) -> String {
        match self {
            Self::Portuguese => PORTUGUESE.stem(word).into_owned(),
            Self::English => ENGLISH.stem(word).into_owned(),
        }
    }
}

/// The words of folded text: letters and digits, and `$` so that "r$" stays a price.
fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !(c.is_alphanumeric() || c == '$'))
        .filter(|w| !w.is_empty())
}

/// Whether a folded word carries no meaning in either language.
pub fn is_stop_word(word: &str) -> bool {
    PT_STOP.contains(&word) || EN_STOP.contains(&word)
}

/// The folded words of `text` that carry meaning, abbreviations expanded and greetings
/// ("bom dia", "boa noite", "good morning") dropped.
pub fn content_words(text: &str) -> Vec<String> {
    let folded = fold(text);
    let raw: Vec<&str> = words(&folded).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let w = raw[i];
        let next = raw.get(i + 1).copied();
        if matches!(w, "bom" | "boa" | "good")
            && matches!(
                next,
                Some("dia" | "tarde" | "noite" | "morning" | "afternoon" | "evening")
            )
        {
            i += 2;
            continue;
        }
        i += 1;
        let w = ABBREVIATIONS
            .iter()
            .find(|(short, _)| *short == w)
            .map_or(w, |(_, long)| long);
        if w.split('-').count() > 1 {
            out.extend(w.split('-').filter(|p| !is_stop_word(p)).map(str::to_owned));
            continue;
        }
        // A lone letter is noise ("a", "e", "q"); a lone digit may be a size or a day.
        let lone_letter = w.chars().count() == 1 && !w.starts_with(|c: char| c.is_ascii_digit());
        if !is_stop_word(w) && !lone_letter {
            out.push(w.to_owned());
        }
    }
    out
}

/// A knowledge text's terms: each content word stemmed in `language`, then the concepts
/// the word belongs to (`#price`, `#hours`, …) as extra terms.
pub fn document_terms(text: &str, language: Language) -> Vec<String> {
    let mut out = Vec::new();
    for w in content_words(text) {
        let stem = language.stem(&w);
        out.extend(lexicon::concepts_of(&w, &stem).map(|c| c.to_owned()));
        out.push(stem);
    }
    out
}

/// One word of a question, in the forms it may take in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    /// The folded word.
    pub word: String,
    /// Its Portuguese and English stems (one when they agree).
    pub stems: Vec<String>,
    /// The concepts it belongs to.
    pub concepts: Vec<&'static str>,
}

/// The words of a question, each with its stems and concepts; a repeated word counts once.
pub fn query_words(question: &str) -> Vec<QueryWord> {
    let mut out: Vec<QueryWord> = Vec::new();
    for w in content_words(question) {
        if out.iter().any(|q| q.word == w) {
            continue;
        }
        let mut stems = vec![Language::Portuguese.stem(&w)];
        let en = Language::English.stem(&w);
        if !stems.contains(&en) {
            stems.push(en);
        }
        let mut concepts: Vec<&'static str> = Vec::new();
        for s in &stems {
            for c in lexicon::concepts_of(&w, s) {
                if !concepts.contains(&c) {
                    concepts.push(c);
                }
            }
        }
        out.push(QueryWord {
            word: w,
            stems,
            concepts,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_case_are_folded_away() {
        assert_eq!(
            content_words("HORÁRIO de Funcionamento"),
            ["horario", "funcionamento"]
        );
        assert_eq!(
            document_terms("Horário", Language::Portuguese),
            document_terms("horario", Language::Portuguese)
        );
    }

    #[test]
    fn stop_words_greetings_and_fillers_carry_no_meaning() {
        assert_eq!(
            content_words("boa noite! vcs tem massa sem gluten? kkk"),
            ["massa", "gluten"]
        );
        assert_eq!(
            content_words("Hi! Do you have any vegan pizza?"),
            ["vegan", "pizza"]
        );
    }

    #[test]
    fn whatsapp_abbreviations_are_expanded() {
        assert_eq!(content_words("qnto custa hj"), ["quanto", "custa", "hoje"]);
        assert_eq!(content_words("abre fds?"), ["abre", "fim", "semana"]);
    }

    #[test]
    fn inflections_share_a_snowball_stem() {
        let pt = Language::Portuguese;
        assert_eq!(pt.stem("entregamos"), pt.stem("entregas"));
        assert_eq!(pt.stem("horarios"), pt.stem("horario"));
        let en = Language::English;
        assert_eq!(en.stem("deliveries"), en.stem("delivery"));
    }

    #[test]
    fn the_language_is_the_one_whose_stop_words_the_text_uses() {
        assert_eq!(
            Language::detect("Do you deliver to my street?"),
            Language::English
        );
        assert_eq!(
            Language::detect("Vocês entregam no meu bairro?"),
            Language::Portuguese
        );
    }

    #[test]
    fn a_question_word_has_both_stems_and_its_concepts() {
        let words = query_words("Quanto custa a entrega?");
        assert_eq!(words.len(), 3);
        assert!(words[1].concepts.contains(&"#price"), "{words:?}");
        assert!(words[2].concepts.contains(&"#delivery"), "{words:?}");
        let pizza = &query_words("pizza")[0];
        assert!(pizza.stems.contains(&Language::Portuguese.stem("pizza")));
        assert!(pizza.stems.contains(&Language::English.stem("pizza")));
    }
}
