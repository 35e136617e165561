//! `/v1/escalations`: the tickets. Partners submit escalations that must meet 21Vianet's
//! criteria; operators triage them through their lifecycle; both sides add notes; every change is
//! an event.

mod attachments;
mod input;
mod output;
mod read;
mod submit;
mod trail;
mod transitions;

pub use attachments::Attachment;
pub(crate) use attachments::too_large as attachment_too_large;
pub use input::EscalationInput;
pub use output::{Escalation, escalation_example};
pub use trail::Note;

const TAG: &str = "escalations";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // `validate` before `{id}`: both are POST paths under /escalations.
    cfg.service(submit::validate_escalation)
        .service(submit::create_escalation)
        .service(read::list_escalations)
        .service(read::get_escalation)
        .service(transitions::transition_escalation)
        .service(trail::add_note)
        .service(trail::list_notes)
        .service(trail::list_events)
        .service(attachments::upload_attachment)
        .service(attachments::list_attachments)
        .service(attachments::get_attachment)
        .service(attachments::download_attachment)
        .service(attachments::delete_attachment);
}
