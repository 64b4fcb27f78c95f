//! A small customer-service lexicon for Portuguese and English: the intents customers ask
//! about (opening hours, prices, delivery, payment, address, …) and the words, in either
//! language, that name them. A word of a group adds the group's concept (`#hours`) as a
//! term, in the knowledge and in questions alike, so "quanto custa?" meets "R$ 54,90" and
//! "what time do you open?" meets "Horário de funcionamento".
//!
//! Only general vocabulary belongs here, never a business's own words: the lexicon must
//! serve businesses it has never seen.

use super::analysis::Language;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Concept → the folded words that name it.
const GROUPS: &[(&str, &[&str])] = &[
    (
        "#hours",
        &[
            "horario",
            "horarios",
            "hora",
            "horas",
            "abre",
            "abrem",
            "abrir",
            "aberto",
            "aberta",
            "abertos",
            "abrimos",
            "fecha",
            "fecham",
            "fechar",
            "fechado",
            "fechada",
            "fechamos",
            "funciona",
            "funcionam",
            "funcionamento",
            "expediente",
            "open",
            "opens",
            "opening",
            "close",
            "closes",
            "closed",
            "closing",
            "hours",
            "hour",
        ],
    ),
    (
        "#price",
        &[
            "preco",
            "precos",
            "valor",
            "valores",
            "quanto",
            "quantos",
            "custa",
            "custam",
            "custo",
            "cobra",
            "cobram",
            "cobramos",
            "cobrado",
            "r$",
            "reais",
            "barato",
            "caro",
            "tabela",
            "price",
            "prices",
            "cost",
            "costs",
            "much",
            "fee",
            "fees",
            "charge",
            "cheap",
            "expensive",
        ],
    ),
    (
        "#delivery",
        &[
            "entrega",
            "entregas",
            "entregam",
            "entregar",
            "entregamos",
            "entregador",
            "delivery",
            "deliver",
            "delivers",
            "frete",
            "motoboy",
            "envio",
            "enviam",
            "enviamos",
            "enviar",
            "shipping",
            "ship",
            "ships",
        ],
    ),
    (
        "#fee",
        &[
            "taxa", "taxas", "tarifa", "multa", "multas", "fee", "fees", "fine", "penalty", "frete",
        ],
    ),
    ("#half", &["metade", "meio", "meia", "half"]),
    ("#morning", &["manha", "morning"]),
    ("#afternoon", &["tarde", "afternoon"]),
    ("#night", &["noite", "night", "evening"]),
    (
        "#class",
        &[
            "aula", "aulas", "turma", "turmas", "class", "classes", "lesson", "lessons",
        ],
    ),
    (
        "#teacher",
        &[
            "professor",
            "professora",
            "professores",
            "instrutor",
            "teacher",
            "teachers",
            "instructor",
        ],
    ),
    ("#course", &["curso", "cursos", "course", "courses"]),
    (
        "#store",
        &[
            "loja", "lojas", "unidade", "unidades", "store", "shop", "branch",
        ],
    ),
    (
        "#pause",
        &[
            "pausar",
            "pausa",
            "trancar",
            "congelar",
            "suspender",
            "pause",
            "freeze",
        ],
    ),
    ("#trial", &["experimental", "teste", "degustacao", "trial"]),
    (
        "#online",
        &["online", "internet", "remoto", "remota", "distancia", "ead"],
    ),
    (
        "#free",
        &["gratis", "gratuito", "gratuita", "gratuitos", "free"],
    ),
    (
        "#insurance",
        &["convenio", "convenios", "plano", "planos", "insurance"],
    ),
    (
        "#payment",
        &[
            "pagamento",
            "pagar",
            "pago",
            "pagam",
            "pagando",
            "pix",
            "cartao",
            "cartoes",
            "credito",
            "debito",
            "dinheiro",
            "especie",
            "boleto",
            "maquininha",
            "parcela",
            "parcelas",
            "parcelar",
            "parcelado",
            "parcelamos",
            "pay",
            "paying",
            "payment",
            "payments",
            "card",
            "cards",
            "credit",
            "debit",
            "cash",
            "installments",
        ],
    ),
    (
        "#address",
        &[
            "endereco",
            "onde",
            "fica",
            "ficamos",
            "localizacao",
            "localizado",
            "localizada",
            "rua",
            "avenida",
            "bairro",
            "where",
            "address",
            "located",
            "location",
            "street",
        ],
    ),
    (
        "#contact",
        &[
            "telefone", "whatsapp", "contato", "numero", "ligar", "email", "phone", "call",
            "contact", "number",
        ],
    ),
    (
        "#booking",
        &[
            "reserva",
            "reservas",
            "reservar",
            "reservamos",
            "agendar",
            "agendamento",
            "agenda",
            "marcar",
            "book",
            "booking",
            "reserve",
            "reservation",
            "appointment",
            "schedule",
        ],
    ),
    (
        "#parking",
        &[
            "estacionamento",
            "estacionar",
            "vaga",
            "vagas",
            "parking",
            "park",
        ],
    ),
    (
        "#duration",
        &[
            "demora", "demoram", "demorar", "tempo", "minutos", "minuto", "prazo", "prazos",
            "rapido", "leva", "chega", "chegar", "long", "wait", "takes", "minutes", "arrive",
        ],
    ),
    (
        "#discount",
        &[
            "desconto",
            "descontos",
            "promocao",
            "promocoes",
            "oferta",
            "ofertas",
            "cupom",
            "discount",
            "discounts",
            "promo",
            "promotion",
            "deal",
            "deals",
            "offer",
            "coupon",
        ],
    ),
    (
        "#refund",
        &[
            "troca",
            "trocar",
            "trocas",
            "devolucao",
            "devolver",
            "reembolso",
            "cancelar",
            "cancelamento",
            "estorno",
            "desistir",
            "desisti",
            "exchange",
            "return",
            "refund",
            "cancel",
        ],
    ),
    (
        "#children",
        &[
            "crianca",
            "criancas",
            "infantil",
            "menor",
            "menores",
            "adolescente",
            "kids",
            "kid",
            "children",
            "child",
            "filho",
            "filha",
            "filhos",
        ],
    ),
    (
        "#pets",
        &[
            "pet",
            "pets",
            "cao",
            "caes",
            "cachorro",
            "cachorros",
            "gato",
            "gatos",
            "animal",
            "animais",
            "dog",
            "dogs",
            "cat",
        ],
    ),
    (
        "#vegan",
        &[
            "vegano",
            "vegana",
            "veganos",
            "veganas",
            "vegetariano",
            "vegetariana",
            "vegan",
            "vegetarian",
        ],
    ),
    ("#gluten", &["gluten", "celiaco", "celiaca", "celiacos"]),
    (
        "#pickup",
        &[
            "retirada", "retirar", "retira", "buscar", "busca", "balcao", "pickup", "pick",
        ],
    ),
    ("#minimum", &["minimo", "minima", "minimum"]),
    (
        "#size",
        &[
            "tamanho", "tamanhos", "size", "sizes", "large", "small", "medium",
        ],
    ),
    ("#warranty", &["garantia", "warranty", "guarantee"]),
    (
        "#menu",
        &[
            "cardapio", "menu", "opcoes", "sabores", "sabor", "flavor", "flavors", "flavour",
        ],
    ),
    (
        "#drinks",
        &[
            "bebida",
            "bebidas",
            "refrigerante",
            "refri",
            "suco",
            "cerveja",
            "drink",
            "drinks",
            "beer",
            "juice",
            "soda",
        ],
    ),
    (
        "#accessibility",
        &[
            "acessibilidade",
            "acessivel",
            "cadeirante",
            "rampa",
            "wheelchair",
            "accessible",
        ],
    ),
    ("#wifi", &["wifi", "internet"]),
    ("#holiday", &["feriado", "feriados", "holiday", "holidays"]),
    ("#monday", &["segunda", "monday"]),
    ("#tuesday", &["terca", "tuesday"]),
    ("#wednesday", &["quarta", "wednesday"]),
    ("#thursday", &["quinta", "thursday"]),
    ("#friday", &["sexta", "friday"]),
    ("#saturday", &["sabado", "sabados", "saturday", "saturdays"]),
    ("#sunday", &["domingo", "domingos", "sunday", "sundays"]),
    (
        "#weekend",
        &[
            "sabado",
            "sabados",
            "domingo",
            "domingos",
            "weekend",
            "fim-de-semana",
        ],
    ),
    ("#today", &["hoje", "today"]),
    ("#tomorrow", &["amanha", "tomorrow"]),
];

/// Every word of the groups, folded and stemmed in both languages → its concepts.
static INDEX: LazyLock<HashMap<String, Vec<&'static str>>> = LazyLock::new(|| {
    let mut index: HashMap<String, Vec<&'static str>> = HashMap::new();
    for (concept, words) in GROUPS {
        for w in *words {
            let forms = [
                (*w).to_owned(),
                Language::Portuguese.stem(w),
                Language::English.stem(w),
            ];
            for form in forms {
                let entry = index.entry(form).or_default();
                if !entry.contains(concept) {
                    entry.push(concept);
                }
            }
        }
    }
    index
});

/// The concepts a folded `word` (or its `stem`) names: its groups, `#hours` for a time of
/// day ("18h", "9h30") and `#price` for a money sign.
pub fn concepts_of<'a>(word: &'a str, stem: &'a str) -> impl Iterator<Item = &'static str> + 'a {
    let pattern = if is_time_of_day(word) {
        Some("#hours")
    } else if word.contains('$') {
        Some("#price")
    } else {
        None
    };
    let listed = INDEX
        .get(word)
        .or_else(|| INDEX.get(stem))
        .map(Vec::as_slice)
        .unwrap_or_default();
    pattern.into_iter().chain(listed.iter().copied())
}

/// "18h", "9h30", "0h", "18hs": digits, an `h`, optional minutes.
fn is_time_of_day(word: &str) -> bool {
    let Some((hours, rest)) = word.split_once('h') else {
        return false;
    };
    !hours.is_empty()
        && hours.len() <= 2
        && hours.chars().all(|c| c.is_ascii_digit())
        && (rest.is_empty()
            || rest == "s"
            || (rest.len() == 2 && rest.chars().all(|c| c.is_ascii_digit())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concepts(word: &str) -> Vec<&'static str> {
        concepts_of(word, &Language::Portuguese.stem(word)).collect()
    }

    #[test]
    fn words_of_either_language_name_the_same_intent() {
        assert!(concepts("abrem").contains(&"#hours"));
        assert!(concepts("opening").contains(&"#hours"));
        assert!(concepts("custa").contains(&"#price"));
        assert!(concepts("r$").contains(&"#price"));
        assert!(concepts("saturday").contains(&"#saturday"));
        assert!(concepts("sabado").contains(&"#saturday"));
    }

    #[test]
    fn inflections_of_a_listed_word_find_its_concept_through_the_stem() {
        assert!(concepts("entregamos").contains(&"#delivery"));
        assert!(concepts("funcionamos").contains(&"#hours"));
    }

    #[test]
    fn times_of_day_are_hours_and_other_words_are_nothing() {
        assert_eq!(concepts("18h"), ["#hours"]);
        assert_eq!(concepts("9h30"), ["#hours"]);
        assert!(concepts("hotel").is_empty());
        assert!(concepts("calabresa").is_empty());
    }
}
