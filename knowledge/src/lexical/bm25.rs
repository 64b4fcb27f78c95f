//! Okapi BM25 over a handful of weighted fields folded into one term frequency (a BM25F
//! without per-field lengths): a passage's own words count 1, its section heading's less.

use std::collections::HashMap;

/// Term-frequency saturation.
const K1: f32 = 1.2;
/// Length normalisation: passages are short and of similar size, so only half of it.
const B: f32 = 0.5;

/// An inverted index of passages, each a bag of weighted terms.
#[derive(Debug, Clone, Default)]
pub struct Bm25 {
    postings: HashMap<String, Vec<(u32, f32)>>,
    lengths: Vec<f32>,
    average: f32,
}

impl Bm25 {
    /// Indexes `docs`, each a list of (term, weight) occurrences; a document's id is its
    /// position in `docs`.
    pub fn new(docs: &[Vec<(String, f32)>]) -> Self {
        let mut postings: HashMap<String, Vec<(u32, f32)>> = HashMap::new();
        let mut lengths = Vec::with_capacity(docs.len());
        for (id, terms) in (0u32..).zip(docs) {
            let mut tf: HashMap<&str, f32> = HashMap::new();
            let mut length = 0.0;
            for (term, weight) in terms {
                *tf.entry(term.as_str()).or_default() += weight;
                length += weight;
            }
            for (term, f) in tf {
                postings.entry(term.to_owned()).or_default().push((id, f));
            }
            lengths.push(length);
        }
        let average = if lengths.is_empty() {
            1.0
        } else {
            (lengths.iter().sum::<f32>() / lengths.len() as f32).max(1.0)
        };
        Self {
            postings,
            lengths,
            average,
        }
    }

    /// How many documents are indexed.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Whether any document has `term`.
    pub fn contains(&self, term: &str) -> bool {
        self.postings.contains_key(term)
    }

    /// The documents with `term` and its frequency in each, by increasing id.
    pub fn postings(&self, term: &str) -> &[(u32, f32)] {
        self.postings.get(term).map_or(&[], Vec::as_slice)
    }

    /// The idf of a term in `df` documents (Lucene's, never negative).
    pub fn idf_of(&self, df: usize) -> f32 {
        let n = self.len() as f32;
        let df = df as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// The idf of `term`; that of a term no document has when it is unknown.
    pub fn idf(&self, term: &str) -> f32 {
        self.idf_of(self.postings(term).len())
    }

    /// `term`'s BM25 contribution to document `doc`: 0 when the document lacks it.
    pub fn score(&self, term: &str, doc: u32) -> f32 {
        let postings = self.postings(term);
        let Ok(i) = postings.binary_search_by_key(&doc, |(d, _)| *d) else {
            return 0.0;
        };
        let tf = postings[i].1;
        let length = self.lengths[doc as usize];
        let norm = K1 * (1.0 - B + B * length / self.average);
        self.idf_of(postings.len()) * tf * (K1 + 1.0) / (tf + norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(texts: &[&str]) -> Bm25 {
        let docs: Vec<Vec<(String, f32)>> = texts
            .iter()
            .map(|t| t.split(' ').map(|w| (w.to_owned(), 1.0)).collect())
            .collect();
        Bm25::new(&docs)
    }

    #[test]
    fn a_rare_term_weighs_more_than_a_common_one() {
        let index = docs(&["pizza entrega", "pizza borda", "pizza preco"]);
        assert!(index.idf("entrega") > index.idf("pizza"));
        assert!(index.score("entrega", 0) > index.score("pizza", 0));
        assert_eq!(index.score("entrega", 1), 0.0);
    }

    #[test]
    fn repeating_a_term_saturates() {
        let index = docs(&["pix", "pix pix", "pix pix pix pix", "outro"]);
        let (one, two, four) = (
            index.score("pix", 0),
            index.score("pix", 1),
            index.score("pix", 2),
        );
        assert!(one < two && two < four, "{one} {two} {four}");
        assert!(four < 2.0 * one * (K1 + 1.0), "bounded by idf·(k1+1)");
    }

    #[test]
    fn a_longer_document_scores_a_match_lower() {
        let index = docs(&["pix", "pix a b c d e f g h", "x"]);
        assert!(index.score("pix", 0) > index.score("pix", 1));
    }

    #[test]
    fn an_unknown_term_has_the_highest_idf_and_no_postings() {
        let index = docs(&["a b", "a c"]);
        assert!(index.idf("zzz") > index.idf("b"));
        assert!(index.postings("zzz").is_empty());
        assert!(!index.contains("zzz"));
    }
}
