//! My data: profile, contact, household and children, dietary needs and health (marked
//! sensitive); each item says whether it is self-declared or attested by a credential.

use yew::prelude::*;

use super::loaded::{show, use_loaded};
use super::{Heading, failure_text};
use crate::components::Field;
use crate::i18n::{Lang, Text};
use crate::services::vault::{Category, DataItem, Source};
use crate::state::{Action, use_app};

fn category_text(c: Category) -> Text {
    match c {
        Category::Profile => Text::CatProfile,
        Category::Contact => Text::CatContact,
        Category::Household => Text::CatHousehold,
        Category::Dietary => Text::CatDietary,
        Category::Health => Text::CatHealth,
    }
}

fn source_badge(l: Lang, source: &Source) -> Html {
    match source {
        Source::SelfDeclared => html! { <span class="badge badge-self">{ l.t(Text::SelfDeclared) }</span> },
        Source::Attested { issuer, .. } => html! {
            <span class="badge badge-attested"><span aria-hidden="true">{ "✔ " }</span>
                { l.t(Text::AttestedBy) }{ " " }{ issuer.clone() }</span>
        },
    }
}

/// The "my data" page.
#[function_component(Data)]
pub fn data() -> Html {
    let state = use_app();
    let l = state.lang;
    let category = use_state(|| Category::Profile);
    let field = use_state(String::new);
    let value = use_state(String::new);
    let error = use_state(|| None::<Text>);
    let saving = use_state(|| false);
    let items = use_loaded(
        state.revision,
        state
            .session()
            .cloned()
            .map(|session| move || async move { session.personal_data().await.map_err(|f| failure_text(&f)) }),
    );
    let submit = {
        let (state, category, field, value, error, saving) =
            (state.clone(), category.clone(), field.clone(), value.clone(), error.clone(), saving.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if field.trim().is_empty() || value.trim().is_empty() {
                error.set(Some(Text::ErrFieldsRequired));
                return;
            }
            let Some(session) = state.session().cloned() else { return };
            error.set(None);
            saving.set(true);
            let (state, cat, f, v) = (state.clone(), *category, (*field).clone(), (*value).clone());
            let (field, value, error, saving) = (field.clone(), value.clone(), error.clone(), saving.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = session.add_personal_data(cat, f.trim(), v.trim()).await;
                saving.set(false);
                match outcome {
                    Ok(()) => {
                        field.set(String::new());
                        value.set(String::new());
                        state.dispatch(Action::Changed(Text::DataSaved));
                    }
                    Err(failure) => error.set(Some(failure_text(&failure))),
                }
            });
        })
    };
    let remove = {
        let state = state.clone();
        move |id: String| {
            let state = state.clone();
            Callback::from(move |_: MouseEvent| {
                let Some(session) = state.session().cloned() else { return };
                let (state, id) = (state.clone(), id.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    match session.delete_personal_data(&id).await {
                        Ok(()) => state.dispatch(Action::Changed(Text::DataDeleted)),
                        Err(failure) => state.dispatch(Action::Failed(failure_text(&failure))),
                    }
                });
            })
        }
    };
    let on_category = {
        let category = category.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            if let Some(c) = Category::from_name(&select.value()) {
                category.set(c);
            }
        })
    };
    let set = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(v))
    };

    let list = show(l, items.as_ref(), |items: &Vec<DataItem>| {
        html! {
                { for Category::ALL.into_iter().map(|c| {
                    let here: Vec<&DataItem> = items.iter().filter(|i| i.category == c).collect();
                    let heading_id = format!("cat-{}", c.name());
                    html! {
                        <section class={classes!("data-group", c.sensitive().then_some("sensitive"))} aria-labelledby={heading_id.clone()}>
                            <h2 id={heading_id}>
                                { l.t(category_text(c)) }
                                if c.sensitive() {
                                    { " " }<span class="badge badge-sensitive"><span aria-hidden="true">{ "⚠ " }</span>{ l.t(Text::Sensitive) }</span>
                                }
                            </h2>
                            if c.sensitive() {
                                <p class="hint">{ l.t(Text::SensitiveExplain) }</p>
                            }
                            if here.is_empty() {
                                <p class="empty">{ l.t(Text::DataEmpty) }</p>
                            } else {
                                <dl class="data-list">
                                    { for here.iter().map(|item| html! {
                                        <div class="data-item">
                                            <dt>{ item.field.clone() }</dt>
                                            <dd>
                                                <span class="data-value">{ item.value.clone() }</span>
                                                { " " }{ source_badge(l, &item.source) }
                                                { " " }
                                                <button type="button" class="link-button" onclick={remove(item.id.clone())}
                                                    aria-label={format!("{} : {}", l.t(Text::Delete), item.field)}>
                                                    { l.t(Text::Delete) }
                                                </button>
                                            </dd>
                                        </div>
                                    }) }
                                </dl>
                            }
                        </section>
                    }
                }) }
        }
    });
    let err = (*error).map(|t| AttrValue::from(l.t(t)));
    html! {
        <section class="page">
            <Heading text={l.t(Text::DataTitle)} />
            <p>{ l.t(Text::DataIntro) }</p>
            { list }
            <form class="panel" onsubmit={submit} novalidate=true>
                <h2>{ l.t(Text::DataAddTitle) }</h2>
                <div class="field">
                    <label for="data-category">{ l.t(Text::DataCategoryLabel) }</label>
                    <select id="data-category" onchange={on_category}>
                        { for Category::ALL.into_iter().map(|c| html! {
                            <option value={c.name()} selected={*category == c}>{ l.t(category_text(c)) }</option>
                        }) }
                    </select>
                </div>
                <Field id="data-field" label={l.t(Text::DataFieldLabel)} value={(*field).clone()} oninput={set(&field)}
                    hint={AttrValue::from(l.t(Text::DataFieldHint))} required=true />
                <Field id="data-value" label={l.t(Text::DataValueLabel)} value={(*value).clone()} oninput={set(&value)}
                    error={err} required=true />
                <button type="submit" class="button" disabled={*saving}>{ l.t(Text::DataAddSubmit) }</button>
            </form>
        </section>
    }
}
