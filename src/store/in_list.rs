//! Values for `IN (...)` lists whose length varies with the data (a lineage walk's frontier).
//!
//! Every distinct length is a distinct statement text, and each text is prepared and kept in
//! the statement cache of every connection that runs it: the frontiers of lineage walks have
//! every length, and the cached statements of a few hundred large walks held hundreds of MB
//! (597 MB after the `--quick` benchmark's queries). Lists are padded to the next power of
//! two by repeating their last value, which changes no answer and leaves a dozen texts per
//! query shape; long lists are cut into chunks, well under the bound parameters a statement
//! may have on either engine.

/// The most values in one list (padded, at most 8,192 bound parameters).
pub(super) const MAX_VALUES: usize = 5000;

/// `values` in lists of at most [`MAX_VALUES`], each padded to a power of two.
pub(super) fn chunks<T: Clone>(values: &[T]) -> impl Iterator<Item = Vec<T>> + '_ {
    values.chunks(MAX_VALUES).map(padded)
}

fn padded<T: Clone>(values: &[T]) -> Vec<T> {
    let mut list = values.to_vec();
    if let Some(last) = values.last() {
        list.resize(values.len().next_power_of_two(), last.clone());
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_padded_with_their_last_value_and_cut_at_the_bound() {
        assert_eq!(padded(&[1, 2, 3]), vec![1, 2, 3, 3]);
        assert_eq!(padded(&[1, 2, 3, 4]), vec![1, 2, 3, 4]);
        assert_eq!(padded::<i64>(&[]), Vec::<i64>::new());
        let long: Vec<i64> = (0..12_000).collect();
        let lists: Vec<Vec<i64>> = chunks(&long).collect();
        assert_eq!(lists.iter().map(Vec::len).collect::<Vec<_>>(), vec![8192, 8192, 2048]);
        assert_eq!(lists[2][1999], 11_999);
        assert_eq!(lists[2][2047], 11_999);
    }
}
