//! SetAccessScopeForObjects (3.3.4.135, through SetOrResetAssociation 3.1.1.1.43.2.5): puts
//! objects in an access scope, or (no scope) makes them inherit their parent's again. One
//! item per object; an object that faults fails its own item. The built-in Default address
//! space keeps Global (IpamApiAccessScopeCannotBeSetOnDefaultProviderAddressSpace).
//! Objects under a moved one that inherit follow it, since inheritance is computed.

use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AccessScopeId, RecordRef, SpaceId};
use crate::tables::access::{ObjectRef, ObjectType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAccessScopeForObjectsParams {
    pub objects: Vec<ObjectRef>,
    /// 0 = inherit from the parent.
    pub scope: AccessScopeId,
}

impl Delegate for SetAccessScopeForObjectsParams {
    fn describe(&self) -> String {
        format!("the access scope of {} object(s)", self.objects.len())
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        if self.objects.is_empty() {
            return Err(Fault::required("objects"));
        }
        if self.scope.is_set() && ctx.access().scope(self.scope).is_none() {
            return Err(Fault::not_found("access_scope_id", format!("access scope {}", self.scope)));
        }
        Ok(Plan {
            items: self
                .objects
                .iter()
                .map(|o| PlanItem {
                    object: format!("{} {}", o.kind.table().name(), o.id),
                    target: o.id,
                })
                .collect(),
        })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let object = self.objects[index];
        let field = format!("objects[{index}]");
        let record = RecordRef::new(object.kind.table(), object.id);
        let exists = match object.kind {
            ObjectType::AddressSpace => ctx.space(SpaceId(object.id)).is_some(),
            ObjectType::Block => ctx.block(crate::ids::BlockId(object.id)).is_some(),
            ObjectType::Range => ctx.range(crate::ids::RangeId(object.id)).is_some(),
            ObjectType::DhcpServer => ctx.server(crate::ids::ServerId(object.id)).is_some(),
            ObjectType::DhcpScope => ctx.scope(crate::ids::ScopeId(object.id)).is_some(),
            ObjectType::DhcpSuperscope => ctx.superscope(crate::ids::SuperscopeId(object.id)).is_some(),
        };
        if !exists {
            return Err(Fault::not_found(field, plan.items[index].object.clone()));
        }
        if object.kind == ObjectType::AddressSpace && SpaceId(object.id) == SpaceId::DEFAULT {
            return Err(Fault::precondition(field, "the built-in Default address space stays in Global"));
        }
        let want = self.scope.non_zero();
        if ctx.access().assigned(object) == want {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, plan.items[index].object.clone(), record));
        }
        ctx.emit(Event::AccessScopeAssigned {
            object,
            scope: self.scope,
        });
        Ok(ItemOutcome::done(ItemAction::Updated, plan.items[index].object.clone(), record))
    }
}
