//! Sender IDs and content templates: registered per account (pending
//! until an admin approves them), and checked when a message uses them.

use smsgate_core::send::{Field, FieldErrorKind};
use smsgate_core::template::Template;
use smsgate_core::{AccountId, Category, PublicId, SenderId};
use smsgate_store::{Approval, NewSender, NewTemplate, SenderRecord, TemplateRecord};

use smsgate_core::operators::Permission;

use crate::{By, Engine, EngineError, not_found};

const MAX_NAME_CHARS: usize = 100;
const MAX_TEMPLATE_ID_CHARS: usize = 64;
const MAX_PURPOSE_CHARS: usize = 200;

fn bounded(field: Field, value: &str, max: usize) -> Result<String, EngineError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(EngineError::field(field, FieldErrorKind::Chars { max }));
    }
    Ok(v.to_string())
}

/// A content template as a client registers it.
#[derive(Debug, Clone, Copy)]
pub struct TemplateRequest<'a> {
    pub name: &'a str,
    /// The id clients send it by.
    pub template_id: &'a str,
    pub category: Category,
    /// The sender it is bound to, registered for the account.
    pub sender_id: Option<&'a str>,
    pub text: &'a str,
}

impl Engine {
    /// Registers a sender ID for an account, pending approval.
    pub async fn register_sender(
        &self,
        by: &By,
        account: AccountId,
        sender_id: &str,
        category: Category,
        purpose: Option<String>,
    ) -> Result<SenderRecord, EngineError> {
        let sender = SenderId::parse(sender_id)
            .map_err(|e| EngineError::field(Field::SenderId, FieldErrorKind::Sender(e)))?;
        let purpose = purpose
            .map(|p| bounded(Field::Purpose, &p, MAX_PURPOSE_CHARS))
            .transpose()?;
        let new = NewSender {
            sender_id: sender.as_str().to_string(),
            category,
            purpose,
        };
        self.inner
            .store
            .create_sender(account, new, &self.audit(by))
            .await
            .map_err(not_found)
    }

    /// Approves a sender ID by its public id (an operator's act).
    pub async fn approve_sender(&self, by: &By, id: &str) -> Result<SenderRecord, EngineError> {
        self.allow(by, Permission::Approve)?;
        let id = PublicId::parse(id).ok_or(EngineError::NotFound("sender ID"))?;
        self.inner
            .store
            .approve_sender(id, &self.audit(by))
            .await?
            .ok_or(EngineError::NotFound("sender ID"))
    }

    /// The account's sender ID with this public id, if any.
    pub async fn sender(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<SenderRecord>, EngineError> {
        let Some(id) = PublicId::parse(id) else {
            return Ok(None);
        };
        Ok(self.inner.store.sender(account, id).await?)
    }

    /// The caller's sender ID named by its text (`Acme`) or its public id
    /// (`sd_…`), as dialects let clients name one.
    pub async fn find_sender(
        &self,
        caller: &crate::Caller,
        given: &str,
    ) -> Result<Option<SenderRecord>, EngineError> {
        let given = given.trim();
        match self
            .inner
            .store
            .sender_by_name(caller.account, given)
            .await?
        {
            Some(found) => Ok(Some(found)),
            None => self.sender(caller.account, given).await,
        }
    }

    /// The caller's template named by its registered template id or its
    /// public id (`tp_…`).
    pub async fn find_template(
        &self,
        caller: &crate::Caller,
        given: &str,
    ) -> Result<Option<TemplateRecord>, EngineError> {
        let given = given.trim();
        match self
            .inner
            .store
            .template_by_template_id(caller.account, given)
            .await?
        {
            Some(found) => Ok(Some(found)),
            None => self.template(caller.account, given).await,
        }
    }

    /// The account's sender IDs, oldest first.
    pub async fn senders(&self, account: AccountId) -> Result<Vec<SenderRecord>, EngineError> {
        Ok(self.inner.store.senders(account).await?)
    }

    /// Removes the account's sender ID with this public id.
    pub async fn delete_sender(
        &self,
        by: &By,
        account: AccountId,
        id: &str,
    ) -> Result<(), EngineError> {
        let id = PublicId::parse(id).ok_or(EngineError::NotFound("sender ID"))?;
        if self
            .inner
            .store
            .delete_sender(account, id, &self.audit(by))
            .await?
        {
            Ok(())
        } else {
            Err(EngineError::NotFound("sender ID"))
        }
    }

    /// The account's template with this public id, if any.
    pub async fn template(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<TemplateRecord>, EngineError> {
        let Some(id) = PublicId::parse(id) else {
            return Ok(None);
        };
        Ok(self.inner.store.template(account, id).await?)
    }

    /// Registers a content template for an account, pending approval. A
    /// bound sender must be registered for the account.
    pub async fn register_template(
        &self,
        by: &By,
        account: AccountId,
        template: TemplateRequest<'_>,
    ) -> Result<TemplateRecord, EngineError> {
        let TemplateRequest {
            name,
            template_id,
            category,
            sender_id,
            text,
        } = template;
        let name = bounded(Field::Name, name, MAX_NAME_CHARS)?;
        let template_id = bounded(Field::TemplateId, template_id, MAX_TEMPLATE_ID_CHARS)?;
        Template::parse(text)
            .map_err(|e| EngineError::field(Field::Text, FieldErrorKind::TemplateText(e)))?;
        let sender_id = match sender_id {
            None => None,
            Some(s) => {
                let registered = self.inner.store.sender_by_name(account, s.trim()).await?;
                match registered {
                    Some(r) => Some(r.sender_id),
                    None => {
                        return Err(EngineError::field(
                            Field::SenderId,
                            FieldErrorKind::SenderNotRegistered(s.trim().to_string()),
                        ));
                    }
                }
            }
        };
        let new = NewTemplate {
            name,
            template_id,
            category,
            sender_id,
            text: text.to_string(),
        };
        self.inner
            .store
            .create_template(account, new, &self.audit(by))
            .await
            .map_err(not_found)
    }

    /// Approves a template by its public id (an operator's act).
    pub async fn approve_template(&self, by: &By, id: &str) -> Result<TemplateRecord, EngineError> {
        self.allow(by, Permission::Approve)?;
        let id = PublicId::parse(id).ok_or(EngineError::NotFound("template"))?;
        self.inner
            .store
            .approve_template(id, &self.audit(by))
            .await?
            .ok_or(EngineError::NotFound("template"))
    }

    /// The template a message names, if it may be used from `sender`: the
    /// account's, approved, and bound to that sender if bound at all.
    pub async fn template_for_send(
        &self,
        account: AccountId,
        template_id: &str,
        sender: &str,
    ) -> Result<(TemplateRecord, Template), EngineError> {
        let t = self
            .inner
            .store
            .template_by_template_id(account, template_id.trim())
            .await?
            .ok_or_else(|| {
                EngineError::field(
                    Field::TemplateId,
                    FieldErrorKind::TemplateUnknown(template_id.to_string()),
                )
            })?;
        if t.status != Approval::Approved {
            return Err(EngineError::field(
                Field::TemplateId,
                FieldErrorKind::TemplateNotApproved(template_id.to_string()),
            ));
        }
        if let Some(bound) = &t.sender_id
            && bound != sender.trim()
        {
            return Err(EngineError::field(
                Field::TemplateId,
                FieldErrorKind::TemplateSender {
                    template: template_id.to_string(),
                    sender: bound.clone(),
                },
            ));
        }
        let parsed = Template::parse(&t.text)
            .map_err(|e| EngineError::field(Field::TemplateId, FieldErrorKind::TemplateText(e)))?;
        Ok((t, parsed))
    }

    /// Refuses a sender ID the account has not registered, or that is not
    /// approved yet (accounts with `require_approved_sender`).
    /// A protected sender ID (a brand, an emergency number) may be sent
    /// from only once it is registered and approved for the account.
    pub(crate) async fn require_protected_sender(
        &self,
        account: AccountId,
        sender: &str,
    ) -> Result<(), EngineError> {
        let approved = self
            .inner
            .store
            .sender_by_name(account, sender.trim())
            .await?
            .is_some_and(|s| s.status == Approval::Approved);
        if approved {
            return Ok(());
        }
        metrics::counter!("smsgate_protected_sender_refused_total").increment(1);
        tracing::warn!(account = %account, sender, "send from a protected sender ID refused");
        Err(EngineError::field(
            Field::From,
            FieldErrorKind::SenderProtected(sender.to_string()),
        ))
    }

    pub(crate) async fn require_approved_sender(
        &self,
        account: AccountId,
        sender: &str,
    ) -> Result<(), EngineError> {
        match self
            .inner
            .store
            .sender_by_name(account, sender.trim())
            .await?
        {
            Some(s) if s.status == Approval::Approved => Ok(()),
            Some(_) => Err(EngineError::field(
                Field::From,
                FieldErrorKind::SenderNotApproved(sender.to_string()),
            )),
            None => Err(EngineError::field(
                Field::From,
                FieldErrorKind::SenderNotRegistered(sender.to_string()),
            )),
        }
    }
}
