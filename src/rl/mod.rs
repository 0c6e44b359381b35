//! The learned query strategies: DRAL (the paper's method) and LAL-RL.
//!
//! Both cast active learning as an episodic MDP (paper Sec. 3.1): the classifier f_t is trained on
//! L_t, the state comes from its predictions on the set-aside D_s, the policy scores every candidate
//! by Q(state, action features) and labels the top N (Eq. 3), the classifier is retrained and the
//! reward comes from the hold-out D_R. A policy is trained on episodes over the pool D_T ([`train`]),
//! then run greedily in the job's evaluation episode. [`replay`], [`qnet`] and [`features`] hold
//! the pieces; [`policy_file`] saves and reloads trained policies.
pub mod config;
pub mod env;
pub mod features;
pub mod policy;
pub mod policy_file;
pub mod qnet;
pub mod replay;
pub mod train;
