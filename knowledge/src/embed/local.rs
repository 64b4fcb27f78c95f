//! The local embedding: hashed term vectors, so retrieval works with nothing configured.
//!
//! Text is folded (lower case, accents removed: "Horário" and "horario" are one word),
//! split into words, stripped of Portuguese and English stop words and of a plural `s`,
//! then each word adds weight to a bucket chosen by a stable hash of it, and its character
//! trigrams add a little more (so "entrega" still meets "entregamos"). Repeated words grow
//! logarithmically, as in BM25's saturated term frequency. The vector is L2-normalised, so
//! the cosine of two of them (0..=1, all weights are positive) is their dot product.

use super::Embedder;
use crate::KnowledgeError;
use std::collections::HashMap;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Length of a local vector.
pub const LOCAL_DIMENSION: usize = 1024;
/// Weight of a whole word.
const WORD_WEIGHT: f32 = 1.0;
/// Total weight of one word's trigrams.
const TRIGRAMS_WEIGHT: f32 = 0.5;

const STOP_WORDS: &[&str] = &[
    // Portuguese (folded).
    "a", "ao", "aos", "as", "ate", "com", "como", "da", "das", "de", "do", "dos", "e", "ela", "ele",
    "eles", "em", "entre", "era", "essa", "esse", "esta", "este", "eu", "foi", "ha", "isso",
    "isto", "ja", "la", "lhe", "mais", "mas", "me", "mesmo", "meu", "minha", "muito", "na", "nas",
    "nem", "no", "nos", "nossa", "nosso", "num", "numa", "o", "os", "ou", "para", "pela", "pelo",
    "por", "pra", "qual", "quais", "quando", "que", "quem", "se", "sem", "ser", "seu", "sua",
    "sao", "so", "tambem", "te", "tem", "um", "uma", "umas", "uns", "voce", "voces", "vos", "onde",
    "posso", "pode", "vcs", "vc", "oi", "ola", // English.
    "about", "an", "and", "are", "at", "be", "by", "can", "could", "do", "does", "for", "from",
    "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so",
    "the", "their", "there", "this", "to", "us", "was", "we", "what", "when", "where", "which",
    "who", "why", "will", "with", "would", "you", "your", "hi", "hello", "please",
];

/// The local embedding; its vectors depend only on the text.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalEmbedder;

#[async_trait::async_trait]
impl Embedder for LocalEmbedder {
    fn id(&self) -> String {
        format!("local-hashed-v1/{LOCAL_DIMENSION}")
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        Ok(texts.iter().map(|t| embed(t)).collect())
    }
}

/// `text` lower-cased with its accents removed (NFD, combining marks dropped).
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words of `text` that carry meaning, folded and singular.
pub fn terms(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(stem)
        .collect()
}

/// Drops a plural ending: "horarios" → "horario", "entregas" → "entrega", "prices" → "price".
fn stem(word: &str) -> String {
    let n = word.chars().count();
    if n > 4 && word.ends_with("oes") {
        format!("{}ao", &word[..word.len() - 3])
    } else if n > 3 && word.ends_with('s') && !word.ends_with("ss") {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    }
}

/// FNV-1a: stable across processes and Rust versions, unlike `DefaultHasher`.
fn bucket(feature: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in feature.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // The modulus fits in usize; the result is below LOCAL_DIMENSION.
    (h % LOCAL_DIMENSION as u64) as usize
}

/// The local vector of `text`; all zeros when it has no meaningful word.
pub fn embed(text: &str) -> Vec<f32> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for term in terms(text) {
        *counts.entry(term).or_default() += 1;
    }
    let mut vector = vec![0.0f32; LOCAL_DIMENSION];
    for (term, count) in counts {
        #[allow(clippy::cast_precision_loss)]
        let tf = 1.0 + (count as f32).ln();
        vector[bucket(&format!("w:{term}"))] += WORD_WEIGHT * tf;
        let padded: Vec<char> = format!("^{term}$").chars().collect();
        let trigrams: Vec<String> = padded.windows(3).map(|w| w.iter().collect()).collect();
        #[allow(clippy::cast_precision_loss)]
        let each = TRIGRAMS_WEIGHT * tf / trigrams.len() as f32;
        for t in trigrams {
            vector[bucket(&format!("t:{t}"))] += each;
        }
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosine;

    const PASSAGES: &[&str] = &[
        "Horário de funcionamento: abrimos de segunda a sexta das 8h às 18h e aos sábados das 9h às 13h. Domingos e feriados fechado.",
        "Entregas: fazemos entrega em toda a cidade em até 2 dias úteis. O frete é grátis para compras acima de R$ 150.",
        "Formas de pagamento: aceitamos Pix, cartão de crédito em até 3 vezes sem juros e boleto bancário.",
        "Trocas e devoluções: você pode trocar ou devolver o produto em até 7 dias após o recebimento, com a nota fiscal.",
        "Opening hours: we are open Monday to Friday from 8 am to 6 pm, Saturdays from 9 am to 1 pm.",
        "Shipping and delivery: we deliver anywhere in the city within two business days; shipping is free over $30.",
        "Payment methods: we accept credit cards, debit cards and bank transfers.",
        "Returns and refunds: products may be returned within 7 days of delivery for a full refund.",
    ];

    fn best(question: &str) -> usize {
        let q = embed(question);
        let scores: Vec<f32> = PASSAGES.iter().map(|p| cosine(&q, &embed(p))).collect();
        (0..scores.len())
            .max_by(|a, b| scores[*a].total_cmp(&scores[*b]))
            .unwrap()
    }

    #[test]
    fn portuguese_questions_find_the_passage_that_answers_them() {
        assert_eq!(best("Qual o horário de funcionamento de vocês?"), 0);
        assert_eq!(best("Vocês fazem entrega? Quanto custa o frete?"), 1);
        assert_eq!(best("posso pagar com pix ou cartao?"), 2);
        assert_eq!(best("Como faço para devolver um produto?"), 3);
    }

    #[test]
    fn english_questions_find_the_passage_that_answers_them() {
        assert_eq!(best("What are your opening hours on Saturday?"), 4);
        assert_eq!(best("Do you deliver? Is shipping free?"), 5);
        assert_eq!(best("Which payment methods do you accept?"), 6);
        assert_eq!(best("Can I get a refund if I return it?"), 7);
    }

    #[test]
    fn case_and_accents_do_not_change_the_vector() {
        assert_eq!(
            embed("HORÁRIO de Funcionamento"),
            embed("horario de funcionamento")
        );
        assert_eq!(fold("Ação É ÇÃO"), "acao e cao");
    }

    #[test]
    fn vectors_are_deterministic_and_unit_length() {
        let v = embed("Entregamos em toda a cidade.");
        assert_eq!(v, embed("Entregamos em toda a cidade."));
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }

    #[test]
    fn a_text_of_stop_words_only_is_the_zero_vector() {
        assert!(embed("o que é isso?").iter().all(|x| *x == 0.0));
    }

    #[test]
    fn plurals_meet_their_singular() {
        assert_eq!(
            terms("horários entregas devoluções prices"),
            vec!["horario", "entrega", "devolucao", "price"]
        );
    }
}
