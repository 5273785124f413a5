use crate::reply::Reply;
use crate::testing::*;
