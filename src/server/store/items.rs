//! The tutorial's items: small records that belong to one user.

use anyhow::Context;

use super::{Store, StoreError};

/// An item as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemRow {
    pub id: i64,
    pub owner_id: i64,
    pub title: String,
    pub description: Option<String>,
}

impl Store {
    /// Adds an item to a user's list.
    ///
    /// # Errors
    /// Database failures (an unknown owner is a foreign-key failure).
    pub async fn add_item(
        &self,
        owner_id: i64,
        title: &str,
        description: Option<&str>,
    ) -> Result<ItemRow, StoreError> {
        let item = on_pool!(self, pool => {
            sqlx::query_as::<_, ItemRow>(
                "INSERT INTO items (owner_id, title, description) VALUES ($1, $2, $3) \
                 RETURNING id, owner_id, title, description",
            )
            .bind(owner_id)
            .bind(title)
            .bind(description)
            .fetch_one(pool)
            .await
        })
        .context("Failed to add an item")?;
        Ok(item)
    }

    /// A user's items, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn items_of(&self, owner_id: i64) -> Result<Vec<ItemRow>, StoreError> {
        let items = on_pool!(self, pool => {
            sqlx::query_as::<_, ItemRow>(
                "SELECT id, owner_id, title, description FROM items WHERE owner_id = $1 ORDER BY id",
            )
            .bind(owner_id)
            .fetch_all(pool)
            .await
        })
        .context("Failed to list items")?;
        Ok(items)
    }
}
