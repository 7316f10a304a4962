//! ADM_DhcpSuperscopeTable (3.1.1.1.46): named groups of a server's IPv4 scopes. The pair
//! (server, name) is unique.

use crate::ids::{ServerId, SuperscopeId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DhcpSuperscope {
    pub id: SuperscopeId,
    pub server: ServerId,
    pub name: String,
}
