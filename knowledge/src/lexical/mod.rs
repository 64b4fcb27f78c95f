//! Lexical retrieval made for the languages customers write in: BM25 over a tenant's
//! knowledge cut into passages, with Portuguese and English [`analysis`], a customer-service
//! [`lexicon`] of intents and a little typo tolerance, and a calibrated confidence.
//!
//! **Passages.** The knowledge is cut where its owner cut it: a paragraph (lines without a
//! blank line between them) is a passage, split by lines and sentences when longer than
//! [`PASSAGE_CHARS`]; a section heading ("== Entrega ==", "Horários:") joins the terms of
//! every passage under it at [`HEADING_WEIGHT`]. Passages are smaller than the embedding
//! chunks, so the best one is about one fact, and the answer is extracted from it
//! ([`extract`]).
//!
//! **Matching.** Each content word of the question counts once, by the best of: one of its
//! stems (Portuguese or English) in the passage; a word of the knowledge one or two edits
//! away ("calabreza" → "calabresa", at [`TYPO_WEIGHT`]); a concept of the lexicon the
//! passage also names (at [`CONCEPT_WEIGHT`]).
//!
//! **Confidence** ([`calibrate`]): a logistic function of three features of the passage:
//! `coverage`, the share of the question's content the passage matches, each word weighted
//! by its idf (a word the knowledge never uses weighs the most: the knowledge cannot answer
//! about it); `strength`, the BM25 score divided by that of a passage matching every word
//! exactly (0..=1); and `margin`, how far the passage stands above the next one. The weights
//! were fitted on a development set of real customer questions (six businesses, 84
//! questions, answerable or not) and checked with `atende bench answers`, so that the
//! default threshold of 0.5 answers most answerable questions and few unanswerable ones;
//! the bench prints the whole trade-off over thresholds.

pub mod analysis;
pub mod bm25;
pub mod extract;
pub mod lexicon;

use analysis::{document_terms, query_words, Language, QueryWord};
use bm25::Bm25;
use std::collections::{BTreeMap, HashMap};

/// A paragraph longer than this is split into passages by lines, then sentences.
pub const PASSAGE_CHARS: usize = 360;
/// Weight of a section heading's terms in each passage under it.
pub const HEADING_WEIGHT: f32 = 0.5;
/// A match through a word a typo away counts this much of an exact one.
pub const TYPO_WEIGHT: f32 = 0.8;
/// A match through a shared concept only counts this much of an exact one.
pub const CONCEPT_WEIGHT: f32 = 0.6;
/// A word matched through a concept only counts this much of a word in [`Features::matched`].
pub const CONCEPT_MATCHED: f32 = 0.25;
/// A question word the knowledge never uses weighs this much of the highest idf: it is
/// often the very thing asked about, but as often a word of chat ("morrendo de fome").
pub const UNKNOWN_WEIGHT: f32 = 1.0;

/// A passage of the knowledge.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    /// Its text as written.
    pub text: String,
    /// The heading of its section, if any.
    pub heading: Option<String>,
}

/// A passage found for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalHit {
    /// The passage's position in [`LexicalIndex::passages`].
    pub passage: usize,
    /// Its BM25 score.
    pub bm25: f32,
    /// The features of the confidence.
    pub features: Features,
    /// The calibrated confidence that the passage answers the question, 0..=1.
    pub confidence: f32,
}

/// What the confidence is computed from (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Features {
    /// Share of the question's idf-weighted content the passage matches, 0..=1.
    pub coverage: f32,
    /// BM25 over the score of a perfect match, 0..=1.
    pub strength: f32,
    /// (this − next) / this, in BM25, 0..=1.
    pub margin: f32,
    /// How many question words the passage has as written or a typo away (a word met
    /// through a concept only counts [`CONCEPT_MATCHED`]).
    pub matched: f32,
    /// How many question words the knowledge never uses, in any form.
    pub unknown: f32,
}

/// The calibrated confidence of `f`: `σ(2·(coverage + 3·strength + 0.25·margin +
/// min(matched, 3) − 0.25·unknown − 2.72))`; 0.5 is the boundary fitted on the development
/// set (a grid search for the most right answers with at most 10 % of the unanswerable
/// questions answered), and the factor 2 spreads the scores so thresholds around it trade
/// right answers for false ones gradually.
pub fn calibrate(f: Features) -> f32 {
    let z = f.coverage + 3.0 * f.strength + 0.25 * f.margin + f.matched.min(3.0)
        - 0.25 * f.unknown
        - 2.72;
    1.0 / (1.0 + (-2.0 * z).exp())
}

/// Reciprocal rank fusion of rankings (each best first) of the same items: an item's score
/// is the sum over rankings of `1 / (k + rank)`, rank from 1, with the usual `k = 60`.
/// Returns the items best first.
pub fn reciprocal_rank_fusion<T: Clone + Eq + std::hash::Hash>(
    rankings: &[Vec<T>],
) -> Vec<(T, f32)> {
    const K: f32 = 60.0;
    let mut scores: HashMap<T, f32> = HashMap::new();
    let mut order: Vec<T> = Vec::new();
    for ranking in rankings {
        for (rank, item) in ranking.iter().enumerate() {
            let s = scores.entry(item.clone()).or_insert_with(|| {
                order.push(item.clone());
                0.0
            });
            *s += 1.0 / (K + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<(T, f32)> = order
        .into_iter()
        .map(|t| {
            let s = scores[&t];
            (t, s)
        })
        .collect();
    // Stable: ties keep the order of first appearance.
    fused.sort_by(|a, b| b.1.total_cmp(&a.1));
    fused
}

/// One tenant's knowledge, indexed for lexical search.
#[derive(Debug, Clone)]
pub struct LexicalIndex {
    passages: Vec<Passage>,
    language: Language,
    bm25: Bm25,
    /// Every folded word of the knowledge → its stem, to correct typos against.
    vocabulary: BTreeMap<String, String>,
}

/// How a question word matched a passage: the term and how much the match counts.
#[derive(Debug, Clone)]
struct Alternative {
    term: String,
    weight: f32,
}

impl LexicalIndex {
    /// Indexes `text`.
    pub fn build(text: &str) -> Self {
        let language = Language::detect(text);
        let passages = passages(text);
        let mut vocabulary = BTreeMap::new();
        let docs: Vec<Vec<(String, f32)>> = passages
            .iter()
            .map(|p| {
                for w in analysis::content_words(&p.text) {
                    let stem = language.stem(&w);
                    vocabulary.entry(w).or_insert(stem);
                }
                let mut terms: Vec<(String, f32)> = document_terms(&p.text, language)
                    .into_iter()
                    .map(|t| (t, 1.0))
                    .collect();
                if let Some(h) = &p.heading {
                    terms.extend(
                        document_terms(h, language)
                            .into_iter()
                            .map(|t| (t, HEADING_WEIGHT)),
                    );
                }
                terms
            })
            .collect();
        Self {
            bm25: Bm25::new(&docs),
            passages,
            language,
            vocabulary,
        }
    }

    /// The passages, in the knowledge's order.
    pub fn passages(&self) -> &[Passage] {
        &self.passages
    }

    /// The language the knowledge was stemmed in.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The forms of `word` this index knows, each with the weight of a match through it.
    fn alternatives(&self, word: &QueryWord) -> Vec<Alternative> {
        let mut alts: Vec<Alternative> = word
            .stems
            .iter()
            .filter(|s| self.bm25.contains(s))
            .map(|s| Alternative {
                term: s.clone(),
                weight: 1.0,
            })
            .collect();
        if alts.is_empty() && word.word.chars().count() >= 6 {
            let max = if word.word.chars().count() >= 8 { 2 } else { 1 };
            // Typos rarely hit the first letter: only words starting with the same one are
            // compared, which keeps this cheap at 50,000 characters of knowledge.
            let first: String = word.word.chars().take(1).collect();
            let same_first = self
                .vocabulary
                .range(first.clone()..)
                .take_while(|(known, _)| known.starts_with(&first));
            for (known, stem) in same_first {
                let typo = known.len().abs_diff(word.word.len()) <= max
                    && strsim::damerau_levenshtein(known, &word.word) <= max;
                // A word of the same family: "clareamento" for "clarear".
                let family = common_prefix(known, &word.word) >= FAMILY_PREFIX;
                if (typo || family) && !alts.iter().any(|a| &a.term == stem) {
                    alts.push(Alternative {
                        term: stem.clone(),
                        weight: TYPO_WEIGHT,
                    });
                }
            }
        }
        alts.extend(
            word.concepts
                .iter()
                .filter(|c| self.bm25.contains(c))
                .map(|c| Alternative {
                    term: (*c).to_owned(),
                    weight: CONCEPT_WEIGHT,
                }),
        );
        alts
    }

    /// The `k` passages best matching `question`, best first, with their confidence.
    pub fn search(&self, question: &str, k: usize) -> Vec<LexicalHit> {
        let words = query_words(question);
        if words.is_empty() || self.bm25.is_empty() || k == 0 {
            return Vec::new();
        }
        let unknown_idf = self.bm25.idf_of(0) * UNKNOWN_WEIGHT;
        let resolved: Vec<(f32, Vec<Alternative>)> = words
            .iter()
            .map(|w| {
                let alts = self.alternatives(w);
                // A word is as informative as its rarest exact form; a word the knowledge
                // never uses is the most informative of all.
                let weight = alts
                    .iter()
                    .filter(|a| a.weight >= TYPO_WEIGHT)
                    .map(|a| self.bm25.idf(&a.term))
                    .fold(None, |m: Option<f32>, x| Some(m.map_or(x, |m| m.max(x))))
                    .unwrap_or(if alts.is_empty() { unknown_idf } else { 0.0 });
                let weight = if weight == 0.0 {
                    // Only a concept matched: weigh the word as the concept.
                    alts.iter()
                        .map(|a| self.bm25.idf(&a.term))
                        .fold(0.0, f32::max)
                } else {
                    weight
                };
                (weight, alts)
            })
            .collect();
        let total: f32 = resolved.iter().map(|(w, _)| w).sum();
        let perfect: f32 = resolved
            .iter()
            .map(|(w, _)| w * 2.2 / 2.0)
            .sum::<f32>()
            .max(1e-6);
        let mut candidates: Vec<u32> = resolved
            .iter()
            .flat_map(|(_, alts)| alts.iter())
            .flat_map(|a| self.bm25.postings(&a.term).iter().map(|(d, _)| *d))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let unknown = resolved.iter().filter(|(_, alts)| alts.is_empty()).count() as f32;
        let mut scored: Vec<(u32, f32, f32, f32)> = candidates
            .into_iter()
            .map(|doc| {
                let (mut bm25, mut covered, mut matched) = (0.0f32, 0.0f32, 0.0f32);
                for (weight, alts) in &resolved {
                    let best = alts
                        .iter()
                        .map(|a| (a.weight * self.bm25.score(&a.term, doc), a.weight))
                        .filter(|(s, _)| *s > 0.0)
                        .max_by(|a, b| a.0.total_cmp(&b.0));
                    if let Some((s, how)) = best {
                        bm25 += s;
                        covered += weight * how;
                        matched += if how >= TYPO_WEIGHT {
                            1.0
                        } else {
                            CONCEPT_MATCHED
                        };
                    }
                }
                let coverage = if total > 0.0 { covered / total } else { 0.0 };
                (doc, bm25, coverage, matched)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k.max(2));
        let hits: Vec<LexicalHit> = scored
            .iter()
            .enumerate()
            .map(|(i, &(doc, bm25, coverage, matched))| {
                let next = scored.get(i + 1).map_or(0.0, |n| n.1);
                let features = Features {
                    coverage: coverage.clamp(0.0, 1.0),
                    strength: (bm25 / perfect).clamp(0.0, 1.0),
                    margin: if bm25 > 0.0 {
                        ((bm25 - next) / bm25).clamp(0.0, 1.0)
                    } else {
                        0.0
                    },
                    matched,
                    unknown,
                };
                LexicalHit {
                    passage: doc as usize,
                    bm25,
                    features,
                    confidence: calibrate(features),
                }
            })
            .collect();
        hits.into_iter().take(k).collect()
    }
}

/// Saturation of a term's frequency in [`LexicalIndex::document_terms`], BM25's `k1`.
pub const TF_SATURATION: f32 = 1.2;

/// Terms hashed to indices with their weights: a sparse vector for an index that weighs
/// the terms itself (Qdrant's sparse vectors with the IDF modifier). Indices ascend and
/// are unique.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseTerms {
    /// The terms' [`term_index`]es.
    pub indices: Vec<u32>,
    /// Their weights.
    pub values: Vec<f32>,
}

impl SparseTerms {
    /// The vector of `weighted` terms; a term (or index) met twice adds its weights.
    pub fn from_weighted(weighted: impl IntoIterator<Item = (String, f32)>) -> Self {
        let mut by_index: BTreeMap<u32, f32> = BTreeMap::new();
        for (term, weight) in weighted {
            *by_index.entry(term_index(&term)).or_default() += weight;
        }
        Self {
            indices: by_index.keys().copied().collect(),
            values: by_index.values().copied().collect(),
        }
    }

    /// Whether no term is in it.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// A term's index in a [`SparseTerms`]: 64-bit FNV-1a folded to 32 bits, stable across
/// builds and processes (indices stored in Qdrant must mean the same term tomorrow).
pub fn term_index(term: &str) -> u32 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(term.as_bytes());
    let h = h.finish();
    // Truncation is the point: the high half is folded into the low one.
    (h ^ (h >> 32)) as u32
}

impl LexicalIndex {
    /// The terms of `text` (a chunk of this knowledge) as this index analyses it, each
    /// weighted by its frequency saturated as BM25 does (`tf·(k1+1)/(tf+k1)`, no length
    /// normalisation: chunks are of a size). The index weighs them by idf.
    pub fn document_terms(&self, text: &str) -> SparseTerms {
        let mut tf: HashMap<String, f32> = HashMap::new();
        for t in document_terms(text, self.language) {
            *tf.entry(t).or_default() += 1.0;
        }
        SparseTerms::from_weighted(
            tf.into_iter()
                .map(|(t, f)| (t, f * (TF_SATURATION + 1.0) / (f + TF_SATURATION))),
        )
    }

    /// The terms `question` is matched through here, each weighted as its match counts:
    /// a stem 1, a word a typo away [`TYPO_WEIGHT`], a concept [`CONCEPT_WEIGHT`]. Words
    /// the knowledge never uses are left out (no chunk could match them).
    pub fn query_terms(&self, question: &str) -> SparseTerms {
        SparseTerms::from_weighted(
            query_words(question)
                .iter()
                .flat_map(|w| self.alternatives(w))
                .map(|a| (a.term, a.weight)),
        )
    }
}

/// A question word and a word of the knowledge starting with this many same letters are
/// of one family, matched as a typo is.
pub const FAMILY_PREFIX: usize = 6;

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// A line that names a section: "== Entrega ==", "## Entrega", or a short line ending in
/// ':' alone on its line.
fn heading_of(line: &str) -> Option<String> {
    let t = line.trim();
    let stripped = t.trim_matches(|c| c == '=' || c == '#' || c == '*').trim();
    if (t.starts_with("==") || t.starts_with('#')) && !stripped.is_empty() {
        return Some(stripped.to_owned());
    }
    if t.ends_with(':') && t.chars().count() <= 60 && !t.starts_with(['-', '•', '*']) {
        return Some(t.trim_end_matches(':').trim().to_owned());
    }
    // "PERGUNTAS FREQUENTES": short, in capitals, no sentence end.
    if t.chars().count() <= 40
        && t.chars().any(char::is_alphabetic)
        && t.chars()
            .filter(|c| c.is_alphabetic())
            .all(char::is_uppercase)
        && !t.ends_with(['.', '!', '?'])
    {
        return Some(t.to_owned());
    }
    None
}

/// `text` cut into passages: paragraphs, split by lines and sentences when too long.
pub fn passages(text: &str) -> Vec<Passage> {
    let mut out = Vec::new();
    let mut heading: Option<String> = None;
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |paragraph: &mut Vec<&str>, heading: &Option<String>, out: &mut Vec<Passage>| {
        let mut current = String::new();
        let pieces = paragraph.iter().flat_map(|line| {
            if line.chars().count() > PASSAGE_CHARS {
                extract::sentences(line)
            } else {
                vec![line.trim().to_owned()]
            }
        });
        for piece in pieces {
            if !current.is_empty()
                && current.chars().count() + piece.chars().count() > PASSAGE_CHARS
            {
                out.push(Passage {
                    text: std::mem::take(&mut current),
                    heading: heading.clone(),
                });
            }
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(&piece);
        }
        if !current.trim().is_empty() {
            out.push(Passage {
                text: current,
                heading: heading.clone(),
            });
        }
        paragraph.clear();
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut paragraph, &heading, &mut out);
            continue;
        }
        if let Some(h) = heading_of(line) {
            flush(&mut paragraph, &heading, &mut out);
            heading = Some(h);
            continue;
        }
        paragraph.push(line);
    }
    flush(&mut paragraph, &heading, &mut out);
    out
}

#[cfg(test)]
mod tests;
