//! The sans-IO connection manager: IB CM state machines (REQ, MRA, REP, RTU,
//! REJ, DREQ, DREP) speaking RDMA-CM's conventions. Owns connection state and
//! CM timers; must not touch sockets, clocks or consumer callbacks.
#![deny(unsafe_code)]
