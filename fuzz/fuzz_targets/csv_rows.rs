//! CSV import rows, customers and volumes: the header check and every row's parser. Every input
//! ends in counted rows or a refused header; a row is passed or refused, never a panic.
#![no_main]

use fieldproof::app::imports::{parse_rows, ImportKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The fuzzer may find the headers by itself; giving them lets it spend its time on rows.
    let mut customers = b"code,name,type,branch,rep,lat,lon,radius,contact,created\n".to_vec();
    customers.extend_from_slice(data);
    let _ = parse_rows(ImportKind::Customers, &customers);
    let mut volumes = b"customer_code,date,awb\n".to_vec();
    volumes.extend_from_slice(data);
    let _ = parse_rows(ImportKind::Volumes, &volumes);
    let _ = parse_rows(ImportKind::Customers, data);
});
