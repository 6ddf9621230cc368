"""The seed's API: async endpoints that call sync repository functions (blocking the loop)."""

from datetime import date, datetime
from typing import Literal

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, Field

from . import todo_repository as repo

Priority = Literal["low", "medium", "high"]

app = FastAPI(title="Todo API (seed BEFORE design)")


class TodoCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = None
    priority: Priority = "medium"
    due_date: date | None = None


class TodoUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    priority: Priority | None = None
    due_date: date | None = None
    completed: bool | None = None


class TodoResponse(BaseModel):
    id: int
    title: str
    description: str | None
    priority: Priority
    due_date: date | None
    completed: bool
    created_at: datetime
    updated_at: datetime


@app.post("/api/todo", response_model=TodoResponse, status_code=201)
async def create_todo_endpoint(todo_data: TodoCreate):
    return repo.create_todo(todo_data)


@app.get("/api/todo", response_model=list[TodoResponse])
async def list_todos_endpoint(
    completed: bool | None = None, priority: Priority | None = None, skip: int = 0, limit: int = 100
):
    return repo.list_todos(completed=completed, priority=priority, skip=skip, limit=limit)


@app.get("/api/todo/{todo_id}", response_model=TodoResponse)
async def get_todo_endpoint(todo_id: int):
    todo = repo.get_todo(todo_id)
    if todo is None:
        raise HTTPException(status_code=404, detail="Todo not found")
    return todo


@app.put("/api/todo/{todo_id}", response_model=TodoResponse)
async def update_todo_endpoint(todo_id: int, todo_data: TodoUpdate):
    todo = repo.update_todo(todo_id, todo_data)
    if todo is None:
        raise HTTPException(status_code=404, detail="Todo not found")
    return todo


@app.delete("/api/todo/{todo_id}", status_code=204)
async def delete_todo_endpoint(todo_id: int):
    if not repo.delete_todo(todo_id):
        raise HTTPException(status_code=404, detail="Todo not found")
    return Response(status_code=204)
