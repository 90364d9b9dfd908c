//! A synthetic catalog for benchmarks (`rudata generate`): organizations, datasets with French titles,
//! descriptions and tags (accents included), remote resources, and one dataset with many resources.
//!
//! Everything goes through the store's write transactions, as the operations' writes do, so every
//! index and side table is kept exactly as the API keeps it; only the batching differs (many datasets
//! per transaction), because loading a million resources one request at a time says nothing new.

use chrono::Duration;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::domain::activity::Actor;
use crate::domain::dataset::{Dataset, last_update};
use crate::domain::ids::{new_object_id, new_resource_id};
use crate::domain::resource::{FILETYPE_REMOTE, Resource};
use crate::domain::time::now;
use crate::ops::organizations::{NewOrganization, create_organization};
use crate::ops::users::{NewUser, create_user};
use crate::state::AppState;
use crate::store::Position;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub datasets: usize,
    /// Resources spread over the datasets (the big dataset's come on top).
    pub resources: usize,
    /// Resources of one more dataset, titled "Jeu volumineux" (0: none).
    pub big_dataset: usize,
    pub organizations: usize,
    /// The same seed gives the same catalog (but for ids and dates).
    pub seed: u64,
}

/// What was made: counts, and the big dataset's id.
#[derive(Debug, Default)]
pub struct Report {
    pub datasets: usize,
    pub resources: usize,
    pub big_dataset: Option<String>,
}

const SUBJECTS: &[&str] = &[
    "Budget primitif",
    "Compte administratif",
    "Qualité de l'air",
    "Écoles élémentaires",
    "Équipements sportifs",
    "Arrêts de bus",
    "Pistes cyclables",
    "Délibérations du conseil municipal",
    "Marchés publics",
    "Consommation d'énergie",
    "Déchets ménagers",
    "Espaces verts",
    "Fréquentation des musées",
    "Subventions aux associations",
    "Accidents de la route",
    "Naissances et décès",
    "Bornes de recharge électrique",
    "Défibrillateurs",
    "Hôpitaux et établissements de santé",
    "Prix des carburants",
];
const PLACES: &[&str] = &[
    "Paris",
    "Lyon",
    "Marseille",
    "Saint-Étienne",
    "Besançon",
    "Nîmes",
    "Orléans",
    "Angoulême",
    "Périgueux",
    "Évry-Courcouronnes",
    "Fougères",
    "Agde",
    "Sète",
    "Cluny",
    "Mâcon",
    "Bourg-en-Bresse",
];
const TAGS: &[&str] = &[
    "budget",
    "finances",
    "environnement",
    "transport",
    "mobilite",
    "education",
    "sante",
    "energie",
    "urbanisme",
    "culture",
    "sport",
    "securite",
    "demographie",
    "economie",
    "open-data",
];
const LICENSES: &[&str] = &["lov2", "odc-odbl", "cc-by", "fr-lo", "notspecified"];
const FREQUENCIES: &[&str] = &["annual", "monthly", "daily", "irregular", "unknown"];
const FORMATS: &[&str] = &["csv", "json", "xlsx", "geojson", "pdf", "zip"];

/// Makes the catalog. `progress` is told the number of datasets written so far.
pub async fn generate(
    state: &AppState,
    spec: &Spec,
    mut progress: impl FnMut(usize),
) -> anyhow::Result<Report> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let admin = create_user(
        state,
        &Actor::none(),
        NewUser::new(
            &format!("generator-{}@rudata.local", new_object_id()),
            "Générateur",
            "Synthétique",
            false,
        )?,
    )
    .await?;
    let mut orgs = Vec::with_capacity(spec.organizations);
    for i in 0..spec.organizations.max(1) {
        let place = PLACES[i % PLACES.len()];
        let new = NewOrganization::new(
            &format!("Ville de {place} {}", i / PLACES.len() + 1),
            &format!("Les données ouvertes de la ville de {place}."),
        )?;
        orgs.push(
            create_organization(state, &Actor::none(), &admin.id, new)
                .await?
                .0
                .id,
        );
    }
    let mut report = Report::default();
    let per_dataset = spec.resources.checked_div(spec.datasets).unwrap_or(0);
    let mut extra = spec.resources - per_dataset * spec.datasets;
    const BATCH: usize = 500;
    let start = now() - Duration::days(3650);
    let mut done = 0;
    while done < spec.datasets {
        let mut tx = state.store.begin().await?;
        for _ in done..(done + BATCH).min(spec.datasets) {
            let n = per_dataset + usize::from(extra > 0);
            extra = extra.saturating_sub(1);
            let created = start + Duration::minutes(rng.random_range(0..5_256_000));
            let mut ds = dataset(&mut rng, &orgs, created);
            let resources: Vec<Resource> = (0..n).map(|i| resource(&mut rng, i, created)).collect();
            let updated = last_update(&ds, &resources);
            tx.insert_dataset(&mut ds, updated).await?;
            for (i, r) in resources.iter().enumerate() {
                tx.insert_resource(&ds.id, r, Position::At(i as i64))
                    .await?;
            }
            report.datasets += 1;
            report.resources += n;
        }
        tx.commit().await?;
        done = (done + BATCH).min(spec.datasets);
        progress(done);
    }
    if spec.big_dataset > 0 {
        // The oldest dataset of the catalog, so that it sits on the last page of the default
        // lists: page 1 then measures an ordinary page, not one embedding 10,000 resources.
        let mut ds = dataset(&mut rng, &orgs, start);
        ds.title = "Jeu volumineux".into();
        let mut tx = state.store.begin().await?;
        tx.insert_dataset(&mut ds, start).await?;
        tx.commit().await?;
        for chunk in (0..spec.big_dataset).collect::<Vec<_>>().chunks(BATCH) {
            let mut tx = state.store.begin().await?;
            for &i in chunk {
                let r = resource(&mut rng, i, start);
                tx.insert_resource(&ds.id, &r, Position::At(i as i64))
                    .await?;
            }
            tx.commit().await?;
        }
        report.datasets += 1;
        report.resources += spec.big_dataset;
        report.big_dataset = Some(ds.id);
    }
    Ok(report)
}

fn dataset(rng: &mut StdRng, orgs: &[String], created: chrono::DateTime<chrono::Utc>) -> Dataset {
    let subject = SUBJECTS.choose(rng).copied().unwrap_or("Données");
    let place = PLACES.choose(rng).copied().unwrap_or("Paris");
    let year = rng.random_range(2010..2027);
    let mut ds = Dataset::blank(new_object_id(), created);
    ds.title = format!("{subject} — {place} {year}");
    ds.description = format!(
        "{subject} de {place} pour l'année {year}. Données publiées par la collectivité, mises à jour \
         régulièrement ; voir la documentation associée pour le détail des champs et des méthodes."
    );
    ds.tags = TAGS
        .choose_multiple(rng, 3)
        .map(|t| t.to_string())
        .collect();
    ds.tags.sort();
    ds.license = LICENSES.choose(rng).map(|l| l.to_string());
    ds.frequency = FREQUENCIES.choose(rng).copied().unwrap_or("unknown").into();
    ds.organization_id = orgs.choose(rng).cloned();
    ds
}

fn resource(rng: &mut StdRng, i: usize, at: chrono::DateTime<chrono::Utc>) -> Resource {
    let format = FORMATS.choose(rng).copied().unwrap_or("csv");
    let mut r = Resource::blank(new_resource_id(), at);
    r.title = format!("Fichier {} ({format})", i + 1);
    r.filetype = FILETYPE_REMOTE.into();
    r.kind = "main".into();
    r.format = Some(format.into());
    r.url = format!("https://donnees.example.org/fichiers/{}.{format}", r.id);
    r
}
