//! The page every screen is drawn in: the U.S. Web Design System's
//! banner, header with the primary navigation, main region and footer,
//! with a skip link first so a keyboard reaches the content at once.
//! Pages read fully without JavaScript; USWDS's script only opens the
//! banner and the small-screen menu.

use maud::{html, Markup, DOCTYPE};

use crate::session::SignedIn;

/// The sections of the primary navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Worklists,
    Child,
    Inbox,
    Dashboard,
    Operations,
    None,
}

const SECTIONS: [(Section, &str, &str); 5] = [
    (Section::Worklists, "/", "Worklists"),
    (Section::Child, "/children", "Find a child"),
    (Section::Inbox, "/inbox", "Notifications"),
    (Section::Dashboard, "/dashboard", "Dashboard"),
    (Section::Operations, "/operations", "Operations"),
];

/// A whole page. `me` is the signed-in person (none on the sign-in and
/// error pages before sign-in).
pub fn page(title: &str, me: Option<&SignedIn>, current: Section, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " | Handoff" }
                link rel="stylesheet" href="/assets/uswds/css/uswds.min.css";
                link rel="stylesheet" href="/assets/console/console.css";
                script src="/assets/uswds/js/uswds-init.min.js" {}
            }
            body {
                a class="usa-skipnav" href="#main-content" { "Skip to main content" }
                (banner())
                (header(me, current))
                main id="main-content" class="grid-container padding-bottom-5" tabindex="-1" {
                    h1 class="margin-top-4" { (title) }
                    (content)
                }
                footer class="usa-footer usa-footer--slim" {
                    div class="usa-footer__primary-section" {
                        div class="grid-container padding-y-2" {
                            p class="margin-0" {
                                "Handoff: the interagency event bus for unaccompanied children's cases (ICE, HHS ORR, DOJ EOIR). "
                                "Every page shows only what the data-sharing policy grants your agency, and every read of a child's record is audited."
                            }
                        }
                    }
                }
                script src="/assets/uswds/js/uswds.min.js" {}
            }
        }
    }
}

fn banner() -> Markup {
    html! {
        section class="usa-banner" aria-label="Official website of the United States government" {
            div class="usa-accordion" {
                header class="usa-banner__header" {
                    div class="usa-banner__inner" {
                        div class="grid-col-auto" {
                            img aria-hidden="true" class="usa-banner__header-flag" src="/assets/uswds/img/us_flag_small.png" alt="";
                        }
                        div class="grid-col-fill tablet:grid-col-auto" aria-hidden="true" {
                            p class="usa-banner__header-text" { "An official website of the United States government" }
                            p class="usa-banner__header-action" { "Here's how you know" }
                        }
                        button type="button" class="usa-accordion__button usa-banner__button" aria-expanded="false" aria-controls="gov-banner" {
                            span class="usa-banner__button-text" { "Here's how you know" }
                        }
                    }
                }
                div class="usa-banner__content usa-accordion__content" id="gov-banner" hidden {
                    div class="grid-row grid-gap-lg" {
                        div class="usa-banner__guidance tablet:grid-col-6" {
                            img class="usa-banner__icon usa-media-block__img" src="/assets/uswds/img/icon-dot-gov.svg" role="img" alt="" aria-hidden="true";
                            div class="usa-media-block__body" {
                                p { strong { "Official websites use .gov" } br; "A .gov website belongs to an official government organization in the United States." }
                            }
                        }
                        div class="usa-banner__guidance tablet:grid-col-6" {
                            img class="usa-banner__icon usa-media-block__img" src="/assets/uswds/img/icon-https.svg" role="img" alt="" aria-hidden="true";
                            div class="usa-media-block__body" {
                                p { strong { "Secure .gov websites use HTTPS" } br; "Share sensitive information only on official, secure websites." }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn header(me: Option<&SignedIn>, current: Section) -> Markup {
    html! {
        header class="usa-header usa-header--basic" {
            div class="usa-nav-container" {
                div class="usa-navbar" {
                    div class="usa-logo" {
                        em class="usa-logo__text" { a href="/" title="Handoff home" { "Handoff" } }
                    }
                    @if me.is_some() {
                        button type="button" class="usa-menu-btn" { "Menu" }
                    }
                }
                @if let Some(me) = me {
                    nav aria-label="Primary navigation" class="usa-nav" {
                        button type="button" class="usa-nav__close" {
                            img src="/assets/uswds/img/usa-icons/close.svg" role="img" alt="Close";
                        }
                        ul class="usa-nav__primary usa-accordion" {
                            @for (section, href, label) in SECTIONS {
                                li class="usa-nav__primary-item" {
                                    @if section == current {
                                        a href=(href) class="usa-nav-link usa-current" aria-current="page" { span { (label) } }
                                    } @else {
                                        a href=(href) class="usa-nav-link" { span { (label) } }
                                    }
                                }
                            }
                        }
                        div class="usa-nav__secondary" {
                            form method="post" action="/sign-out" class="margin-top-1" {
                                input type="hidden" name="csrf" value=(me.csrf);
                                span class="margin-right-1" {
                                    "Signed in for " strong { (crate::labels::agency(me.token.agency)) }
                                    " (" (me.token.id) ")"
                                }
                                button type="submit" class="usa-button usa-button--outline usa-button--small" { "Sign out" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An alert box: `kind` is `info`, `warning`, `error` or `success`.
pub fn alert(kind: &str, heading: &str, text: Markup) -> Markup {
    html! {
        div class={ "usa-alert usa-alert--" (kind) } role=(if kind == "error" { "alert" } else { "status" }) {
            div class="usa-alert__body" {
                h2 class="usa-alert__heading" { (heading) }
                p class="usa-alert__text" { (text) }
            }
        }
    }
}
