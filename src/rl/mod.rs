//! The learned query strategies: DRAL (the paper's method) and LAL-RL.
//!
//! Both cast active learning as an episodic MDP (paper Sec. 3.1): the classifier f_t is trained on
//! L_t, the state comes from its predictions on the set-aside D_s, the policy scores every candidate
//! by Q(state, action features) and labels the top N (Eq. 3), f_t is trained on the new labelled
//! set and the reward comes from the hold-out D_R. A policy is trained ([`train`]) on the episodes
//! of an [`env::Environment`] (the real one runs [`crate::episode::Episode`]s over the pool D_T),
//! then run greedily as a [`crate::strategy::Strategy`] ([`policy::Learned`]) in the evaluation
//! episode every strategy runs. [`replay`], [`qnet`] and [`features`] hold the pieces;
//! [`policy_file`] saves and reloads trained policies.
pub mod config;
pub mod env;
pub mod features;
pub mod policy;
pub mod policy_file;
pub mod qnet;
pub mod replay;
pub mod train;
