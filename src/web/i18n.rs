//! The site's two languages: French (data.gouv.fr's, the default) and English. A page's language is
//! its URL's (`/fr/…`, `/en/…`); the home page at `/` takes the visitor's `Accept-Language`.
//! Every text of the pages is a field of [`Strings`], so a language cannot miss one.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::domain::reference::FREQUENCIES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// What an activity log entry of a dataset says happened (`None`: an entry the page does not
    /// describe).
    pub fn activity(self, key: &str) -> Option<&'static str> {
        let (fr, en) = match key {
            "dataset:created" => ("Jeu de données créé", "Dataset created"),
            "dataset:updated" => ("Jeu de données modifié", "Dataset updated"),
            "dataset:deleted" => ("Jeu de données supprimé", "Dataset deleted"),
            "dataset:resource:added" => ("Fichier ajouté", "File added"),
            "dataset:resource:updated" => ("Fichier modifié", "File updated"),
            "dataset:resource:deleted" => ("Fichier supprimé", "File deleted"),
            "dataset:resource:unavailable" => {
                ("Fichier devenu indisponible", "File became unavailable")
            }
            "dataset:resource:changed" => ("Contenu du fichier changé", "File content changed"),
            _ => return None,
        };
        Some(match self {
            Lang::Fr => fr,
            Lang::En => en,
        })
    }

    /// The language's code: the `lang` attribute and the first segment of its URLs.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The other language, the one the switch links to.
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    /// The language of a path (`/fr/…`, `/en/…`), if it names one.
    pub fn of_path(path: &str) -> Option<Lang> {
        let first = path.trim_start_matches('/').split('/').next()?;
        match first {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The visitor's language from `Accept-Language`: the one of French and English with the
    /// highest weight (the first listed on a tie), French when neither is accepted.
    pub fn negotiate(headers: &HeaderMap) -> Lang {
        let mut best: Option<(Lang, f32)> = None;
        for value in headers.get_all(header::ACCEPT_LANGUAGE) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                let weight = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                    .unwrap_or(0.0);
                let primary = tag.split('-').next().unwrap_or("");
                let lang = match primary {
                    "fr" => Lang::Fr,
                    "en" => Lang::En,
                    _ => continue,
                };
                if weight > 0.0 && best.is_none_or(|(_, w)| weight > w) {
                    best = Some((lang, weight));
                }
            }
        }
        best.map_or(Lang::Fr, |(lang, _)| lang)
    }

    /// The label of an update frequency id.
    pub fn frequency(self, id: &str) -> String {
        let english = FREQUENCIES.iter().find(|(f, _)| *f == id).map(|(_, l)| *l);
        match self {
            Lang::En => english.unwrap_or(id).to_string(),
            Lang::Fr => FREQUENCIES_FR
                .iter()
                .find(|(f, _)| *f == id)
                .map_or(english.unwrap_or(id), |(_, l)| *l)
                .to_string(),
        }
    }
}

/// The language of the request: its path's, or its `Accept-Language` (see [`Lang::negotiate`]).
impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::of_path(parts.uri.path()).unwrap_or_else(|| Lang::negotiate(&parts.headers)))
    }
}

/// Every text of the site in one language. `{n}`, `{m}` mark where numbers go.
pub struct Strings {
    pub site_title: &'static str,
    pub skip_link: &'static str,
    pub main_nav: &'static str,
    pub nav_datasets: &'static str,
    pub nav_api: &'static str,
    pub language_nav: &'static str,
    pub language_name: &'static str,
    pub footer: &'static str,
    pub home_title: &'static str,
    pub home_lead: &'static str,
    pub search_label: &'static str,
    pub search_button: &'static str,
    pub latest: &'static str,
    pub all_datasets: &'static str,
    pub no_datasets: &'static str,
    pub datasets_title: &'static str,
    pub results_one: &'static str,
    pub results_many: &'static str,
    pub no_results: &'static str,
    pub sort_label: &'static str,
    pub sort_created: &'static str,
    pub sort_updated: &'static str,
    pub filters: &'static str,
    pub active_filters: &'static str,
    pub remove_filter: &'static str,
    pub pagination: &'static str,
    pub previous_page: &'static str,
    pub next_page: &'static str,
    pub page_of: &'static str,
    pub license: &'static str,
    pub no_license: &'static str,
    pub format: &'static str,
    pub organization: &'static str,
    pub tag: &'static str,
    pub tags: &'static str,
    pub frequency: &'static str,
    pub created: &'static str,
    pub updated: &'static str,
    pub description: &'static str,
    pub files: &'static str,
    pub no_files: &'static str,
    pub download: &'static str,
    pub size: &'static str,
    pub checksum: &'static str,
    pub availability: &'static str,
    pub available: &'static str,
    pub unavailable: &'static str,
    pub not_checked: &'static str,
    pub checked_on: &'static str,
    pub permalink: &'static str,
    pub history: &'static str,
    pub history_of: &'static str,
    /// The dataset's change history (its activity log entries).
    pub changes: &'static str,
    pub changes_all: &'static str,
    pub changed_fields: &'static str,
    pub archived: &'static str,
    pub in_api: &'static str,
    pub information: &'static str,
    pub website: &'static str,
    pub org_datasets: &'static str,
    pub not_found: &'static str,
    pub not_found_text: &'static str,
    pub gone: &'static str,
    pub gone_text: &'static str,
    pub bad_request: &'static str,
    pub server_error: &'static str,
    pub server_error_text: &'static str,
    pub back_home: &'static str,
    pub months: [&'static str; 12],
    pub units: [&'static str; 4],
    pub decimal: char,
}

pub static FR: Strings = Strings {
    site_title: "rudata",
    skip_link: "Aller au contenu",
    main_nav: "Navigation principale",
    nav_datasets: "Jeux de données",
    nav_api: "API",
    language_nav: "Langue",
    language_name: "Français",
    footer: "Catalogue de données ouvertes propulsé par rudata, compatible avec l’API de data.gouv.fr.",
    home_title: "Catalogue de données ouvertes",
    home_lead: "Trouvez, téléchargez et réutilisez des données ouvertes.",
    search_label: "Rechercher des jeux de données",
    search_button: "Rechercher",
    latest: "Derniers jeux de données",
    all_datasets: "Voir tous les jeux de données",
    no_datasets: "Aucun jeu de données pour l’instant.",
    datasets_title: "Jeux de données",
    results_one: "{n} jeu de données",
    results_many: "{n} jeux de données",
    no_results: "Aucun jeu de données ne correspond à votre recherche.",
    sort_label: "Trier par",
    sort_created: "Les plus récents",
    sort_updated: "Dernière mise à jour",
    filters: "Filtres",
    active_filters: "Filtres actifs",
    remove_filter: "Retirer le filtre",
    pagination: "Pagination",
    previous_page: "Page précédente",
    next_page: "Page suivante",
    page_of: "Page {n} sur {m}",
    license: "Licence",
    no_license: "Licence non spécifiée",
    format: "Format",
    organization: "Organisation",
    tag: "Mot-clé",
    tags: "Mots-clés",
    frequency: "Fréquence de mise à jour",
    created: "Créé le",
    updated: "Mis à jour le",
    description: "Description",
    files: "Fichiers",
    no_files: "Aucun fichier.",
    download: "Télécharger",
    size: "Taille",
    checksum: "Somme de contrôle",
    availability: "Disponibilité",
    available: "Disponible",
    unavailable: "Indisponible",
    not_checked: "Non vérifiée",
    checked_on: "vérifiée le",
    permalink: "Lien permanent",
    history: "Versions précédentes",
    history_of: "Versions précédentes de {n}",
    changes: "Historique des modifications",
    changes_all: "Tout l’historique dans l’API",
    changed_fields: "champs",
    archived: "Ce jeu de données est archivé : il n’est plus mis à jour.",
    in_api: "Voir dans l’API",
    information: "Informations",
    website: "Site web",
    org_datasets: "Jeux de données de l’organisation",
    not_found: "Page introuvable",
    not_found_text: "La page demandée n’existe pas, ou n’est pas publique.",
    gone: "Page supprimée",
    gone_text: "Ce contenu a été supprimé par son producteur.",
    bad_request: "Requête invalide",
    server_error: "Erreur du serveur",
    server_error_text: "Le service ne peut pas répondre pour le moment ; réessayez plus tard.",
    back_home: "Retour à l’accueil",
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    units: ["o", "Ko", "Mo", "Go"],
    decimal: ',',
};

pub static EN: Strings = Strings {
    site_title: "rudata",
    skip_link: "Skip to content",
    main_nav: "Main navigation",
    nav_datasets: "Datasets",
    nav_api: "API",
    language_nav: "Language",
    language_name: "English",
    footer: "Open data catalog powered by rudata, compatible with data.gouv.fr’s API.",
    home_title: "Open data catalog",
    home_lead: "Find, download and reuse open data.",
    search_label: "Search datasets",
    search_button: "Search",
    latest: "Latest datasets",
    all_datasets: "See all datasets",
    no_datasets: "No datasets yet.",
    datasets_title: "Datasets",
    results_one: "{n} dataset",
    results_many: "{n} datasets",
    no_results: "No dataset matches your search.",
    sort_label: "Sort by",
    sort_created: "Newest",
    sort_updated: "Last updated",
    filters: "Filters",
    active_filters: "Active filters",
    remove_filter: "Remove the filter",
    pagination: "Pagination",
    previous_page: "Previous page",
    next_page: "Next page",
    page_of: "Page {n} of {m}",
    license: "License",
    no_license: "License not specified",
    format: "Format",
    organization: "Organization",
    tag: "Tag",
    tags: "Tags",
    frequency: "Update frequency",
    created: "Created on",
    updated: "Updated on",
    description: "Description",
    files: "Files",
    no_files: "No files.",
    download: "Download",
    size: "Size",
    checksum: "Checksum",
    availability: "Availability",
    available: "Available",
    unavailable: "Unavailable",
    not_checked: "Not checked",
    checked_on: "checked on",
    permalink: "Permanent link",
    history: "Previous versions",
    history_of: "Previous versions of {n}",
    changes: "Change history",
    changes_all: "The whole history in the API",
    changed_fields: "fields",
    archived: "This dataset is archived: it is no longer updated.",
    in_api: "View in the API",
    information: "Information",
    website: "Website",
    org_datasets: "Datasets of the organization",
    not_found: "Page not found",
    not_found_text: "The page you asked for does not exist, or is not public.",
    gone: "Page deleted",
    gone_text: "This content was deleted by its publisher.",
    bad_request: "Invalid request",
    server_error: "Server error",
    server_error_text: "The service cannot answer right now; please try again later.",
    back_home: "Back to the home page",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    units: ["B", "kB", "MB", "GB"],
    decimal: '.',
};

/// Update frequencies in French (data.gouv.fr's labels); an id missing here shows in English.
const FREQUENCIES_FR: [(&str, &str); 40] = [
    ("continuous", "Temps réel"),
    ("oneMinute", "Chaque minute"),
    ("fiveMinutes", "Toutes les cinq minutes"),
    ("tenMinutes", "Toutes les dix minutes"),
    ("fifteenMinutes", "Tous les quarts d’heure"),
    ("thirtyMinutes", "Toutes les demi-heures"),
    ("hourly", "Toutes les heures"),
    ("bihourly", "Toutes les deux heures"),
    ("trihourly", "Toutes les trois heures"),
    ("twelveHours", "Toutes les douze heures"),
    ("severalTimesADay", "Plusieurs fois par jour"),
    ("threeTimesADay", "Trois fois par jour"),
    ("semidaily", "Deux fois par jour"),
    ("daily", "Quotidienne"),
    ("fiveTimesAWeek", "Cinq fois par semaine"),
    ("threeTimesAWeek", "Trois fois par semaine"),
    ("semiweekly", "Deux fois par semaine"),
    ("weekly", "Hebdomadaire"),
    ("biweekly", "Toutes les deux semaines"),
    ("threeTimesAMonth", "Trois fois par mois"),
    ("semimonthly", "Deux fois par mois"),
    ("monthly", "Mensuelle"),
    ("bimonthly", "Tous les deux mois"),
    ("quarterly", "Trimestrielle"),
    ("threeTimesAYear", "Trois fois par an"),
    ("semiannual", "Semestrielle"),
    ("annual", "Annuelle"),
    ("biennial", "Tous les deux ans"),
    ("triennial", "Tous les trois ans"),
    ("quadrennial", "Tous les quatre ans"),
    ("quinquennial", "Tous les cinq ans"),
    ("decennial", "Tous les dix ans"),
    ("bidecennial", "Tous les vingt ans"),
    ("tridecennial", "Tous les trente ans"),
    ("punctual", "Ponctuelle"),
    ("irregular", "Irrégulière"),
    ("never", "Jamais"),
    ("notPlanned", "Non planifiée"),
    ("other", "Autre"),
    ("unknown", "Inconnue"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn negotiated(value: &str) -> Lang {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_str(value).unwrap(),
        );
        Lang::negotiate(&h)
    }

    #[test]
    fn the_heaviest_accepted_language_wins() {
        assert_eq!(negotiated("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(negotiated("de-DE, en;q=0.5, fr;q=0.8"), Lang::Fr);
        assert_eq!(negotiated("fr;q=0.2, en;q=0.7"), Lang::En);
        assert_eq!(negotiated("en;q=0, fr;q=0.1"), Lang::Fr);
        assert_eq!(negotiated("de"), Lang::Fr);
        assert_eq!(negotiated("EN-us"), Lang::En);
        assert_eq!(Lang::negotiate(&HeaderMap::new()), Lang::Fr);
    }

    #[test]
    fn every_frequency_has_a_french_label() {
        for (id, _) in FREQUENCIES {
            assert!(FREQUENCIES_FR.iter().any(|(f, _)| *f == id), "{id}");
        }
        assert_eq!(Lang::Fr.frequency("daily"), "Quotidienne");
        assert_eq!(Lang::En.frequency("daily"), "Daily");
    }
}
