//! argon2 with working memory that is reused while logins keep coming and goes back to the
//! system when they stop.
//!
//! argon2id needs a large block of memory per computation (19 MiB with the default
//! parameters). Allocating it afresh for each hash costs thousands of page faults, and freeing it
//! an unmapping, every time; and left to glibc's malloc, freed blocks stay in per-thread arenas,
//! so that after a storm of logins the process held some 360 MiB for good (see
//! `docs/performance.md`). Here each thread keeps one block, in a mapping of its own, and reuses
//! it for every computation it runs; the hashing pool's workers hand it back
//! ([`release_memory`]) once they have been idle for a moment. The block is reserved above
//! glibc's 32 MiB limit for the dynamic mmap threshold, so that freeing it always unmaps it.

use std::cell::RefCell;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use password_hash::{Output, PasswordHash, SaltString};
use zeroize::Zeroize as _;

use crate::PasswordError;

/// Blocks in an allocation that glibc maps and unmaps by itself (over its 32 MiB limit for the
/// dynamic mmap threshold, on 64-bit systems).
const UNMAPPED_ON_FREE_BLOCKS: usize = 33 * 1024 * 1024 / std::mem::size_of::<Block>();

thread_local! {
    /// This thread's working memory: empty until its first computation, then as large as the
    /// largest one it ran, until [`release_memory`].
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Zeroed working memory of `block_count` blocks, in its own mapping.
fn working_memory(block_count: usize) -> Vec<Block> {
    let mut blocks = Vec::with_capacity(block_count.max(UNMAPPED_ON_FREE_BLOCKS));
    blocks.resize(block_count, Block::new());
    blocks
}

/// Gives this thread's working memory back to the system.
pub(crate) fn release_memory() {
    MEMORY.with(|memory| drop(std::mem::take(&mut *memory.borrow_mut())));
}

/// How many bytes of working memory this thread holds.
#[cfg(test)]
fn held_bytes() -> usize {
    MEMORY.with(|memory| memory.borrow().capacity() * std::mem::size_of::<Block>())
}

/// Computes the argon2 digest of `input` into `out`, in this thread's working memory.
fn compute(
    argon2: &Argon2<'_>,
    params: &Params,
    input: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let block_count = params.block_count();
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < block_count {
            *memory = working_memory(block_count);
        }
        let blocks = &mut memory[..block_count];
        let result = argon2.hash_password_into_with_memory(input, salt, out, &mut *blocks);
        // The blocks hold values derived from the password: none is left for the next one.
        for block in blocks {
            *block = Block::new();
        }
        result
    })
}

/// Hashes `input` with argon2id, `params` and `secret` (the pepper) into a PHC string.
///
/// # Errors
/// When argon2 refuses the parameters or the secret.
pub(crate) fn hash(
    input: &[u8],
    params: Params,
    secret: Option<&[u8]>,
) -> Result<String, PasswordError> {
    let argon2 = instance(Algorithm::Argon2id, Version::V0x13, params.clone(), secret)?;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_bytes = [0_u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(PasswordError::internal)?;
    let mut out = vec![0_u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    compute(&argon2, &params, input, salt_bytes, &mut out).map_err(PasswordError::internal)?;
    let output = Output::new(&out).map_err(PasswordError::internal)?;
    out.zeroize();
    let hashed = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(PasswordError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hashed.to_string())
}

/// Checks `input` against an argon2 PHC string (argon2id, argon2i or argon2d, any
/// parameters), comparing the digests in constant time.
///
/// # Errors
/// [`PasswordError::Mismatch`] for a wrong password; a malformed-hash error when the string
/// cannot be an argon2 hash.
pub(crate) fn verify(
    input: &[u8],
    hashed: &PasswordHash<'_>,
    secret: Option<&[u8]>,
) -> Result<(), PasswordError> {
    let (Some(salt), Some(expected)) = (hashed.salt, hashed.hash) else {
        return Err(PasswordError::malformed("no salt or no digest"));
    };
    let algorithm = Algorithm::try_from(hashed.algorithm).map_err(PasswordError::malformed)?;
    let version = hashed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(PasswordError::malformed)?
        .unwrap_or_default();
    let mut params = Params::try_from(hashed).map_err(PasswordError::malformed)?;
    // The digest's length is part of the hash, not of the parameters string.
    params = argon2::ParamsBuilder::new()
        .m_cost(params.m_cost())
        .t_cost(params.t_cost())
        .p_cost(params.p_cost())
        .output_len(expected.len())
        .build()
        .map_err(PasswordError::malformed)?;
    let argon2 = instance(algorithm, version, params.clone(), secret)?;
    let mut salt_bytes = [0_u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(PasswordError::malformed)?;
    let mut out = vec![0_u8; expected.len()];
    compute(&argon2, &params, input, salt_bytes, &mut out).map_err(PasswordError::malformed)?;
    let computed = Output::new(&out).map_err(PasswordError::internal)?;
    out.zeroize();
    // `Output`'s equality is constant-time.
    if computed == expected {
        Ok(())
    } else {
        Err(PasswordError::Mismatch)
    }
}

fn instance<'a>(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    secret: Option<&'a [u8]>,
) -> Result<Argon2<'a>, PasswordError> {
    match secret {
        Some(secret) => Argon2::new_with_secret(secret, algorithm, version, params)
            .map_err(PasswordError::internal),
        None => Ok(Argon2::new(algorithm, version, params)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Params {
        Params::new(1024, 1, 1, None).expect("valid parameters")
    }

    #[test]
    fn the_working_memory_is_a_separate_mapping_of_the_needed_blocks() {
        let memory = working_memory(Params::default().block_count());
        assert_eq!(memory.len(), Params::default().block_count());
        assert!(memory.capacity() * std::mem::size_of::<Block>() > 32 * 1024 * 1024);
    }

    #[test]
    fn a_thread_keeps_its_working_memory_until_it_releases_it() {
        std::thread::spawn(|| {
            assert_eq!(held_bytes(), 0, "nothing before the first computation");
            let first = hash(b"hunter2", small(), None).expect("hashes");
            let held = held_bytes();
            assert!(held >= small().block_count() * std::mem::size_of::<Block>());

            // The next computations reuse the same memory, and give the same answers.
            let parsed = PasswordHash::new(&first).expect("a PHC string");
            assert!(verify(b"hunter2", &parsed, None).is_ok());
            assert_eq!(held_bytes(), held);

            release_memory();
            assert_eq!(held_bytes(), 0);
            assert!(
                verify(b"hunter2", &parsed, None).is_ok(),
                "and it comes back"
            );
        })
        .join()
        .expect("no panic");
    }

    #[test]
    fn larger_parameters_after_smaller_ones_get_enough_memory() {
        std::thread::spawn(|| {
            let small_hash = hash(b"hunter2", small(), None).expect("hashes");
            let larger = Params::new(4096, 1, 1, None).expect("valid parameters");
            let large_hash = hash(b"hunter2", larger, None).expect("hashes");
            for hashed in [&small_hash, &large_hash, &small_hash] {
                let parsed = PasswordHash::new(hashed).expect("a PHC string");
                assert!(verify(b"hunter2", &parsed, None).is_ok());
                assert!(matches!(
                    verify(b"hunter3", &parsed, None),
                    Err(PasswordError::Mismatch)
                ));
            }
        })
        .join()
        .expect("no panic");
    }

    #[test]
    fn a_hash_verifies_and_a_wrong_password_does_not() {
        let hashed = hash(b"hunter2", small(), None).expect("hashes");
        let parsed = PasswordHash::new(&hashed).expect("a PHC string");
        assert!(
            hashed.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
            "{hashed}"
        );
        assert!(verify(b"hunter2", &parsed, None).is_ok());
        assert!(matches!(
            verify(b"hunter3", &parsed, None),
            Err(PasswordError::Mismatch)
        ));
    }

    #[test]
    fn the_same_digest_as_the_argon2_crate_alone() {
        use password_hash::PasswordHasher as _;
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("a salt");
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, small())
            .hash_password(b"hunter2", &salt)
            .expect("hashes")
            .to_string();
        let parsed = PasswordHash::new(&reference).expect("a PHC string");
        assert!(verify(b"hunter2", &parsed, None).is_ok());
    }
}
